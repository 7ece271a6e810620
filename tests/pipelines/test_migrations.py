"""Migrations that change existing rows, run against rows written before them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pipelines.models import Pipeline
from tests.pipelines.builders import dataset_with, example_version

BEFORE, AFTER = [("pipelines", "0005_network")], [("pipelines", "0006_unique_pipeline_names")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_pipelines_sharing_a_name_get_their_id_appended_but_the_oldest(owner, project):
    version = example_version(project, owner)
    data = dataset_with(project, "reviews", {"a.csv": b"x\n"})
    old = migrate(BEFORE).get_model("pipelines", "Pipeline")
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
    migrate(AFTER)
    names = dict(Pipeline.objects.values_list("id", "name"))
    assert names[made[0].id] == "nightly"
    assert names[made[1].id] == f"nightly-{made[1].id}"
    assert names[made[2].id] == "weekly"
    assert names[made[3].id] == "n" * 100
    suffix = f"-{made[4].id}"
    assert names[made[4].id] == "n" * (100 - len(suffix)) + suffix
