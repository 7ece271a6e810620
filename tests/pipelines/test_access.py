"""pipelines.access: a pipeline or a run is reached only inside the project it belongs to."""

import pytest
from django.db.models import Count
from django.http import Http404

from pipelines.access import pipeline_in, run_in
from pipelines.models import Artifact, Pipeline, Run
from tests.factories import make_project
from tests.pipelines.builders import dataset_with, example_version, training_pipeline


@pytest.fixture
def pipeline(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "flowers", {"train/a.csv": b"1"})
    return training_pipeline(project, owner, version, data, input_path="train")


@pytest.fixture
def run(pipeline):
    run = pipeline.runs.get()
    Artifact.objects.bulk_create(Artifact(run=run, path=path, size=1) for path in ["a", "b"])
    return run


@pytest.fixture
def elsewhere(owner):
    """Another project of the same owner: membership of both lets nothing cross over."""
    return make_project(owner, "Elsewhere")


def test_a_run_is_found_in_its_own_project(project, run):
    assert run_in(project, run.id) == run


def test_a_run_of_another_project_is_404(elsewhere, run):
    with pytest.raises(Http404):
        run_in(elsewhere, run.id)


def test_an_unknown_run_is_404(project, run):
    with pytest.raises(Http404):
        run_in(project, run.id + 1000)


def test_the_callers_queryset_brings_what_it_reads_with_the_run(project, run):
    found = run_in(project, run.id, Run.objects.annotate(files=Count("artifacts")))
    assert found.files == 2


def test_the_callers_queryset_does_not_reach_outside_the_project(elsewhere, run):
    with pytest.raises(Http404):
        run_in(elsewhere, run.id, Run.objects.all())


def test_a_pipeline_is_found_with_its_latest_run(project, pipeline, run, django_assert_num_queries):
    found = pipeline_in(project, pipeline.id)
    with django_assert_num_queries(0):
        assert found.latest_run == run
        assert found.package_version.package.name == "flowers-stdlib"


def test_a_pipeline_of_another_project_is_404(elsewhere, pipeline):
    with pytest.raises(Http404):
        pipeline_in(elsewhere, pipeline.id)
    with pytest.raises(Http404):
        pipeline_in(elsewhere, pipeline.id, Pipeline.objects.all())
