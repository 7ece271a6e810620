"""The objects of deleted runs are collected from the store; those of other runs stay."""

from django.utils import timezone
from django_q.models import Schedule

from aicenter.store import get_store
from packages.upload import delete_package
from pipelines.gc import SCHEDULE_NAME, collect_run_objects, ensure_collection_schedule
from pipelines.models import Status
from pipelines.outputs import results_key
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    package_version_with,
    store_artifacts,
    training_pipeline,
)

TRAINABLE = """\
class Main:
    def train(self, training_directory):
        pass

    def save(self):
        pass
"""


def finished_run(project, owner, version, files: dict[str, bytes]):
    data = dataset_with(project, f"data-of-{version.package.name}", {"a.csv": b"1"})
    pipeline = training_pipeline(project, owner, version, data)
    pipeline.runs.update(status=Status.SUCCESSFUL, ended_at=timezone.now())
    run = pipeline.runs.get()
    store_artifacts(run, files)
    get_store().put_bytes(results_key(run), b"{}")
    return run


def stored_keys(run) -> list[str]:
    return [item.key for item in get_store().list(f"runs/{run.id}/")]


def test_the_objects_of_a_deleted_packages_runs_are_collected(project, owner):
    deleted = package_version_with(project, owner, TRAINABLE, name="old-model")
    gone = finished_run(project, owner, deleted, {"model.bin": b"12345", "plots/a.png": b"png"})
    kept = finished_run(project, owner, example_version(project, owner), {"model.bin": b"kept"})
    delete_package(deleted.package)

    collected = collect_run_objects()

    assert (collected.runs, collected.objects, collected.bytes) == (1, 3, 5 + 3 + 2)
    assert stored_keys(gone) == []
    assert sorted(stored_keys(kept)) == [
        f"runs/{kept.id}/_results.json",
        f"runs/{kept.id}/artifacts/model.bin",
    ]
    assert str(collected) == "Removed 3 object(s) of 1 deleted run(s), freeing 10 bytes."


def test_a_store_without_deleted_runs_loses_nothing(project, owner):
    kept = finished_run(project, owner, example_version(project, owner), {"model.bin": b"kept"})
    assert collect_run_objects().runs == 0
    assert len(stored_keys(kept)) == 2


def test_the_collection_is_scheduled_daily(db):
    Schedule.objects.filter(name=SCHEDULE_NAME).delete()
    ensure_collection_schedule()
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == (
        "pipelines.gc.collect_run_objects",
        Schedule.DAILY,
    )
