"""Publishing never follows a link the run's code planted, not even one swapped in after
the files were listed: artifacts and the new version's zip hold only the workspace's own
regular files, and a FIFO never hangs the worker."""

import contextlib
import os
import shutil
import signal
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone

from aicenter.store import get_store
from pipelines.models import Status
from pipelines.runner.logs import RunLog
from pipelines.runner.nofollow import Folder, Refused
from pipelines.runner.publish import upload_artifacts, upload_listed, zip_package
from pipelines.runner.workspace import Workspace
from tests.pipelines.builders import run_of, snapshotting_pipeline

SECRET = b"the service's secret key"
HANG_SECONDS = 10


@pytest.fixture
def run(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"species\nsetosa\n"})
    return run_of(pipeline, Status.RUNNING, worker="here:1", heartbeat_at=timezone.now())


@pytest.fixture
def workspace(run, settings, tmp_path):
    settings.WORKER_DIR = str(tmp_path / "worker")
    workspace = Workspace.create(run.id)
    yield workspace
    workspace.remove()


@pytest.fixture
def artifacts(workspace) -> Path:
    folder = workspace.inside("artifacts")
    folder.mkdir()
    (folder / "model.txt").write_bytes(b"weights")
    return folder


@pytest.fixture
def outside(tmp_path) -> Path:
    """A secret file, and a folder holding it under an artifact's name, outside the workspace."""
    (tmp_path / "secret.key").write_bytes(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "model.bin").write_bytes(SECRET)
    return tmp_path


@pytest.fixture
def log(run) -> RunLog:
    return RunLog(run)


def lines(log: RunLog) -> list[str]:
    return [line.text for line in log.pending]


def stored(run) -> dict[str, bytes]:
    store = get_store()
    return {item.key: store.get_bytes(item.key) for item in store.list(f"runs/{run.id}/")}


@contextlib.contextmanager
def never_hangs():
    """Fails the test, instead of hanging it, when the block blocks (on a FIFO's open)."""

    def hung(*_):
        raise AssertionError(f"blocked for {HANG_SECONDS} seconds")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def listed(folder: Path, log: RunLog) -> tuple[Folder, list[str]]:
    opened = Folder.open(folder)
    return opened, opened.files(lambda path, why: log.system(f"listing: {path} {why}"))


def test_an_artifact_linked_to_a_file_outside_is_skipped_and_named(run, artifacts, outside, log):
    (artifacts / "key.txt").symlink_to(outside / "secret.key")
    upload_artifacts(run, artifacts, log)
    assert stored(run) == {f"runs/{run.id}/artifacts/model.txt": b"weights"}
    assert list(run.artifacts.values_list("path", "size")) == [("model.txt", 7)]
    assert "Artifact 'key.txt' skipped: it is a link." in lines(log)
    assert "Uploaded 1 artifact files." in lines(log)


def test_a_fifo_among_the_artifacts_is_skipped_without_hanging(run, artifacts, log):
    os.mkfifo(artifacts / "pipe")
    with never_hangs():
        upload_artifacts(run, artifacts, log)
    assert list(stored(run)) == [f"runs/{run.id}/artifacts/model.txt"]
    assert "Artifact 'pipe' skipped: it is not a regular file." in lines(log)


def test_a_file_swapped_for_a_fifo_after_listing_does_not_hang(run, artifacts, log):
    folder, paths = listed(artifacts, log)
    (artifacts / "model.txt").unlink()
    os.mkfifo(artifacts / "model.txt")
    with folder, never_hangs():
        upload_listed(run, folder, paths, log)
    assert stored(run) == {}
    assert "Artifact 'model.txt' skipped: it is not a regular file." in lines(log)


def test_a_file_swapped_for_a_link_after_listing_is_not_uploaded(run, artifacts, outside, log):
    folder, paths = listed(artifacts, log)
    assert paths == ["model.txt"]
    (artifacts / "model.txt").unlink()
    (artifacts / "model.txt").symlink_to(outside / "secret.key")
    with folder:
        upload_listed(run, folder, paths, log)
    assert stored(run) == {}
    assert not run.artifacts.exists()
    assert "Artifact 'model.txt' skipped: it is a link." in lines(log)


def test_a_folder_of_artifacts_linked_outside_is_not_followed(run, artifacts, outside, log):
    (artifacts / "models").symlink_to(outside / "outside", target_is_directory=True)
    upload_artifacts(run, artifacts, log)
    assert list(stored(run)) == [f"runs/{run.id}/artifacts/model.txt"]
    assert "Artifact 'models' skipped: it is a link." in lines(log)


@pytest.mark.parametrize("target", ["outside", "/"])
def test_a_folder_swapped_for_a_link_after_listing_is_not_followed(
    run, artifacts, outside, log, target
):
    """The listed 'models/model.bin', then 'sub/etc/passwd', exist outside once swapped."""
    listed_file = "models/model.bin" if target == "outside" else "sub/etc/passwd"
    (artifacts / listed_file).parent.mkdir(parents=True)
    (artifacts / listed_file).write_bytes(b"mine")
    folder, paths = listed(artifacts, log)
    swapped = artifacts / listed_file.split("/")[0]
    shutil.rmtree(swapped)
    swapped.symlink_to(outside / target if target == "outside" else Path("/"))
    with folder:
        upload_listed(run, folder, paths, log)
    assert list(stored(run)) == [f"runs/{run.id}/artifacts/model.txt"]
    why = "a folder on its path is a link or not a folder"
    assert f"Artifact '{listed_file}' skipped: {why}." in lines(log)


def test_an_artifacts_folder_swapped_for_a_link_publishes_nothing(run, workspace, outside, log):
    """The folder the run named was checked to lie in the workspace; then it became a link."""
    artifacts = workspace.inside("home/out")
    (artifacts.parent / "elsewhere").symlink_to(outside / "outside")
    os.replace(artifacts.parent / "elsewhere", artifacts)
    upload_artifacts(run, artifacts, log)
    assert stored(run) == {}
    why = "a folder on its path is a link or not a folder"
    assert f"Artifacts folder skipped: {why}." in lines(log)


def package_with_links(workspace: Workspace, outside: Path) -> None:
    (workspace.package / "train.py").write_text("print('trained')\n")
    (workspace.package / "weights.bin").symlink_to(outside / "secret.key")
    (workspace.package / "data").symlink_to(outside / "outside", target_is_directory=True)
    os.mkfifo(workspace.package / "pipe")


def zipped(archive_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive_path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_new_versions_zip_never_holds_what_a_link_points_to(workspace, outside, log):
    package_with_links(workspace, outside)
    with never_hangs():
        archive = zip_package(workspace, log)
    assert zipped(archive) == {"train.py": b"print('trained')\n"}
    assert SECRET not in archive.read_bytes()
    assert "Package file 'weights.bin' skipped: it is a link." in lines(log)
    assert "Package file 'data' skipped: it is a link." in lines(log)
    assert "Package file 'pipe' skipped: it is not a regular file." in lines(log)


def test_a_package_file_swapped_for_a_link_after_listing_stays_out_of_the_zip(
    workspace, outside, log, monkeypatch
):
    (workspace.package / "train.py").write_text("print('trained')\n")
    (workspace.package / "model.bin").write_bytes(b"mine")
    files = Folder.files

    def listing_then_swapping(folder, refused):
        paths = files(folder, refused)
        (workspace.package / "model.bin").unlink()
        (workspace.package / "model.bin").symlink_to(outside / "secret.key")
        return paths

    monkeypatch.setattr(Folder, "files", listing_then_swapping)
    archive = zip_package(workspace, log)
    assert zipped(archive) == {"train.py": b"print('trained')\n"}
    assert "Package file 'model.bin' skipped: it is a link." in lines(log)


def test_the_zip_keeps_each_files_mode(workspace, log):
    script = workspace.package / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o750)
    with zipfile.ZipFile(zip_package(workspace, log)) as archive:
        assert archive.getinfo("run.sh").external_attr >> 16 == 0o100750


def test_a_package_folder_that_became_a_link_is_refused(workspace, outside, log):
    shutil.rmtree(workspace.package)
    workspace.package.symlink_to(outside / "outside", target_is_directory=True)
    with pytest.raises(Refused):
        zip_package(workspace, log)
