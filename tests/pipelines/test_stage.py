"""Staging a dataset folder into a run's workspace through the worker's blob cache."""

import os

import pytest

from aicenter.store import get_store
from pipelines.models import Status
from pipelines.runner.run import run_pipeline
from pipelines.runner.stage import cache_path, stage_folder
from tests.factories import package_files, zip_bytes
from tests.pipelines.builders import dataset_with, snapshotting_pipeline

FILES = {"train/a.csv": b"a\n1\n", "train/deep/b.csv": b"b\n2\n", "test/c.csv": b"c\n3\n"}


@pytest.fixture
def worker_dir(settings, tmp_path):
    settings.WORKER_DIR = tmp_path / "worker"
    return settings.WORKER_DIR


@pytest.fixture
def dataset(project):
    return dataset_with(project, "flowers", FILES)


def test_staging_links_a_folders_files_from_the_read_only_blob_cache(dataset, worker_dir, tmp_path):
    target = tmp_path / "data"
    snapshot = stage_folder(dataset, "train", target)
    assert {path: (target / path).read_bytes() for path in ["a.csv", "deep/b.csv"]} == {
        "a.csv": FILES["train/a.csv"],
        "deep/b.csv": FILES["train/deep/b.csv"],
    }
    assert not (target / "c.csv").exists()
    cached = cache_path(snapshot.files.get(path="a.csv").sha256_id)
    assert os.path.samefile(cached, target / "a.csv")
    assert cached.stat().st_mode & 0o777 == 0o444
    assert (snapshot.file_count, snapshot.total_size) == (2, 8)


def test_a_warm_cache_stages_without_asking_the_store(dataset, worker_dir, tmp_path):
    stage_folder(dataset, "", tmp_path / "first")
    get_store().delete_prefix("blobs/")
    stage_folder(dataset, "", tmp_path / "second")
    assert (tmp_path / "second" / "test" / "c.csv").read_bytes() == FILES["test/c.csv"]


def test_staging_fetches_only_the_contents_the_cache_lacks(project, worker_dir, tmp_path):
    stage_folder(dataset_with(project, "old", {"a.csv": b"old"}), "", tmp_path / "first")
    get_store().delete_prefix("blobs/")
    newer = dataset_with(project, "new", {"a.csv": b"old", "b.csv": b"new"})
    stage_folder(newer, "", tmp_path / "second")
    assert (tmp_path / "second" / "b.csv").read_bytes() == b"new"


@pytest.mark.django_db(transaction=True)
def test_a_run_that_fails_at_staging_names_no_path_of_the_worker(project, owner, worker_dir):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"a\n1\n"})
    run = pipeline.runs.get()
    # A version stored before package paths were checked at upload: no disk can hold the name.
    long_name = "n" * 300 + ".py"
    unwritable = zip_bytes({**package_files(), long_name: "x"})
    get_store().put_bytes(run.package_version.zip_key, unwritable)
    run_pipeline(run.id)
    run.refresh_from_db()
    logged = "\n".join(run.log_lines.values_list("text", flat=True))
    assert run.status == Status.FAILED
    assert f"File name too long: 'package/{long_name}'" in run.error
    for shown in [run.error, logged]:
        assert str(worker_dir) not in shown
        assert "/runs/" not in shown
