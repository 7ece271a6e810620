"""A pipeline points at its newest run, which the lists read instead of all of its runs."""

import importlib

from django.apps import apps

from pipelines.models import Pipeline
from pipelines.start import run_again, start_run
from tests.pipelines.builders import dataset_with, example_version, training_pipeline


def test_every_new_run_becomes_its_pipelines_latest(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "d", {"train/a.csv": b"x\n1\n"})
    pipeline = training_pipeline(project, owner, version, data)
    first = pipeline.runs.get()
    assert Pipeline.objects.get(id=pipeline.id).latest_run == first

    second = start_run(pipeline)
    assert Pipeline.objects.get(id=pipeline.id).latest_run == second
    third = run_again(first)
    assert Pipeline.objects.get(id=pipeline.id).latest_run == third


def test_migrating_points_existing_pipelines_at_their_newest_run(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "d", {"train/a.csv": b"x\n1\n"})
    pipeline = training_pipeline(project, owner, version, data)
    newest = start_run(pipeline)
    idle = training_pipeline(project, owner, version, data, name="idle")
    idle.runs.all().delete()
    Pipeline.objects.update(latest_run=None)

    migration = importlib.import_module("pipelines.migrations.0004_pipeline_latest_run")
    migration.point_at_latest_runs(apps, None)
    assert Pipeline.objects.get(id=pipeline.id).latest_run == newest
    assert Pipeline.objects.get(id=idle.id).latest_run is None
