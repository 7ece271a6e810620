"""The GPU switch of pipelines and runs saved before GPUs were counted means one GPU."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pipelines.models import Pipeline, Run
from pipelines.start import start_run
from tests.pipelines.builders import dataset_with, example_version, training_pipeline

BEFORE = [("pipelines", "0005_network")]
AFTER = [("pipelines", "0006_resources")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


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
        migrate(AFTER)
    assert Pipeline.objects.get(id=with_gpu.id).gpus == 1
    assert Pipeline.objects.get(id=without.id).gpus is None
    assert Run.objects.get(id=run.id).gpus == 1
