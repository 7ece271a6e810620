"""Migrations that change existing rows, run against rows written before them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from pipelines.models import Pipeline, Run
from pipelines.start import start_run
from tests.pipelines.builders import dataset_with, example_version, training_pipeline

BEFORE = [("pipelines", "0005_network")]
AFTER = [("pipelines", "0006_resources")]
LATEST = MigrationLoader(None).graph.leaf_nodes("pipelines")  # where every test expects it


def migrate(targets):
    """Migrates to `targets`; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def switches(table: str) -> dict[int, bool]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, gpu FROM {table}")  # noqa: S608 - our own table names
        return {row_id: bool(gpu) for row_id, gpu in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_gpu_switch_becomes_one_gpu_and_back(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "reviews", {"a.csv": b"x\n"})
    with_gpu = training_pipeline(project, owner, version, data, name="gpu", gpus=2)
    without = training_pipeline(project, owner, version, data, name="cpu")
    run = start_run(with_gpu)
    try:
        migrate(BEFORE)
        assert switches("pipelines_pipeline") == {with_gpu.id: True, without.id: False}
        assert switches("pipelines_run")[run.id] is True
    finally:
        migrate(LATEST)
    assert Pipeline.objects.get(id=with_gpu.id).gpus == 1
    assert Pipeline.objects.get(id=without.id).gpus is None
    assert Run.objects.get(id=run.id).gpus == 1


@pytest.mark.django_db(transaction=True)
def test_pipelines_sharing_a_name_get_their_id_appended_but_the_oldest(owner, project):
    version = example_version(project, owner)
    data = dataset_with(project, "reviews", {"a.csv": b"x\n"})
    old = migrate(AFTER).get_model("pipelines", "Pipeline")
    made = [
        old.objects.create(
            project_id=project.id, name=name, type="training",
            package_version_id=version.id, input_dataset_id=data.id,
        )
        for name in ["nightly", "nightly", "weekly", "n" * 100]
    ] + [
        old.objects.create(
            project_id=project.id, name="n" * 100, type="training",
            package_version_id=version.id, input_dataset_id=data.id,
        )
    ]  # fmt: skip
    migrate(LATEST)
    names = dict(Pipeline.objects.values_list("id", "name"))
    assert names[made[0].id] == "nightly"
    assert names[made[1].id] == f"nightly-{made[1].id}"
    assert names[made[2].id] == "weekly"
    assert names[made[3].id] == "n" * 100
    suffix = f"-{made[4].id}"
    assert names[made[4].id] == "n" * (100 - len(suffix)) + suffix
