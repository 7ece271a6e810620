import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from aicenter.store import get_store
from datasets.models import Blob, Snapshot
from datasets.snapshots import dataset_from_snapshot, take_snapshot
from datasets.tree import delete_path
from datasets.zips import zip_response, zip_stream
from tests.factories import make_dataset

FILES = {"train/a.csv": "a,b\n1,2\n", "train/img/x.png": b"\x89PNG", "test/b.csv": "b"}


def stored() -> list:
    return list(get_store().list(""))


@pytest.fixture
def dataset(project):
    return make_dataset(project, files=FILES)


def test_a_snapshot_freezes_a_folders_files_relative_to_it_and_adds_no_bytes(dataset, owner):
    before = stored()
    snapshot = take_snapshot(dataset, "train", user=owner)
    assert dict(snapshot.files.values_list("path", "size")) == {"a.csv": 8, "img/x.png": 4}
    assert (snapshot.file_count, snapshot.total_size) == (2, 12)
    assert (snapshot.dataset_name, snapshot.folder, snapshot.project) == (
        "reviews",
        "train",
        dataset.project,
    )
    assert stored() == before
    assert Blob.objects.count() == len(FILES)


def test_a_snapshot_of_the_root_holds_every_file(dataset):
    snapshot = take_snapshot(dataset)
    assert sorted(snapshot.files.values_list("path", flat=True)) == sorted(FILES)


def test_a_snapshot_outlives_changes_to_its_dataset(dataset):
    snapshot = take_snapshot(dataset, "train")
    delete_path(dataset, "train")
    dataset.delete()
    snapshot.refresh_from_db()
    assert snapshot.dataset is None
    assert snapshot.files.count() == 2
    assert str(snapshot) == "reviews/train"


def test_a_snapshot_becomes_a_new_dataset_sharing_its_bytes(dataset, project, owner):
    before = stored()
    snapshot = take_snapshot(dataset, "train")
    copy = dataset_from_snapshot(snapshot, project, "reviews-copy", owner)
    assert dict(copy.files.values_list("path", "sha256")) == {
        "a.csv": dataset.files.get(path="train/a.csv").sha256_id,
        "img/x.png": dataset.files.get(path="train/img/x.png").sha256_id,
    }
    assert copy.files.get(path="img/x.png").folder == "img"
    assert copy.files.get(path="a.csv").content_type == "text/csv"
    assert stored() == before


def test_a_snapshot_cannot_become_a_dataset_with_a_taken_name(dataset, project, owner):
    snapshot = take_snapshot(dataset)
    with pytest.raises(ValidationError):
        dataset_from_snapshot(snapshot, project, "reviews", owner)
    assert project.datasets.count() == 1


def test_a_snapshot_streams_as_a_zip_of_its_files_with_its_size_announced(dataset):
    snapshot = take_snapshot(dataset, "train")
    response = zip_response(zip_stream(snapshot.zip_entries()), snapshot.download_name)
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert f'filename="reviews-snapshot-{snapshot.id}.zip"' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.read("a.csv") == b"a,b\n1,2\n"
        assert archive.read("img/x.png") == b"\x89PNG"
        assert len(archive.namelist()) == 2


def test_snapshots_are_listed_newest_first(dataset):
    first, second = take_snapshot(dataset), take_snapshot(dataset, "test")
    assert list(Snapshot.objects.all()) == [second, first]
