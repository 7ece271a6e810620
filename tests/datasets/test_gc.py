from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from aicenter.store import get_store
from datasets.gc import SCHEDULE_NAME, collect_garbage, ensure_schedules
from datasets.models import Blob
from datasets.snapshots import take_snapshot
from datasets.tree import delete_path
from tests.factories import make_dataset


def age_every_blob(hours: int = 2) -> None:
    Blob.objects.update(created_at=timezone.now() - timedelta(hours=hours))


@pytest.fixture
def dataset(project):
    return make_dataset(project, files={"keep.csv": "kept", "drop.csv": "dropped!"})


def test_collection_frees_an_unreferenced_blob_and_keeps_a_referenced_one(dataset):
    dropped = dataset.files.get(path="drop.csv").sha256
    kept = dataset.files.get(path="keep.csv").sha256
    delete_path(dataset, "drop.csv")
    age_every_blob()
    collected = collect_garbage()
    assert (collected.blobs, collected.bytes) == (1, 8)
    assert not Blob.objects.filter(sha256=dropped.sha256).exists()
    assert not get_store().exists(dropped.key)
    assert get_store().get_bytes(kept.key) == b"kept"


def test_collection_keeps_a_blob_that_only_a_snapshot_refers_to(dataset):
    take_snapshot(dataset)
    blob = dataset.files.get(path="drop.csv").sha256
    delete_path(dataset, "drop.csv")
    age_every_blob()
    assert collect_garbage().blobs == 0
    assert get_store().exists(blob.key)


def test_collection_keeps_a_young_unreferenced_blob(dataset):
    blob = dataset.files.get(path="drop.csv").sha256
    delete_path(dataset, "drop.csv")
    assert collect_garbage().blobs == 0
    assert get_store().exists(blob.key)
    assert collect_garbage(grace_seconds=0).blobs == 1


def test_stored_bytes_without_a_row_are_adopted_then_collected_after_the_grace(db):
    stray = "f" * 64
    get_store().put_bytes(Blob.key_for(stray), b"left behind")
    assert collect_garbage().blobs == 0
    assert Blob.objects.get(sha256=stray).size == 11
    age_every_blob()
    assert collect_garbage().bytes == 11
    assert not get_store().exists(Blob.key_for(stray))


def test_the_command_reports_the_bytes_freed(dataset):
    delete_path(dataset, "drop.csv")
    age_every_blob()
    out = StringIO()
    call_command("collect_blobs", stdout=out)
    assert out.getvalue().strip() == "Removed 1 unreferenced blob, freeing 8 bytes."


def test_a_daily_collection_is_scheduled_once(db):
    ensure_schedules()
    ensure_schedules()
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == ("datasets.gc.collect_garbage", "D")
