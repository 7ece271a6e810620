"""Staging: the package extracted and the data materialised from the worker's blob cache."""

import os
import shutil
import zipfile
from pathlib import Path

from django.conf import settings

from aicenter.store import get_store
from datasets.models import Blob, Dataset, Snapshot
from datasets.snapshots import take_snapshot
from pipelines.models import Run
from pipelines.runner.logs import RunLog
from pipelines.runner.workspace import Workspace


def stage(run: Run, workspace: Workspace, log: RunLog) -> list:
    """Fill the workspace; the snapshots taken, exactly what the run is given."""
    extract_package(run, workspace)
    snapshots = []
    for dataset, folder, target in [
        (run.input_dataset, run.input_path, workspace.data),
        (run.evaluation_dataset, run.evaluation_path, workspace.test_data),
    ]:
        if dataset is None:
            continue
        snapshot = stage_folder(dataset, folder, target)
        log.system(
            f"Staged {snapshot.file_count} files of {dataset.name}/{folder} into {target.name}/."
        )
        snapshots.append(snapshot)
    return snapshots


def stage_folder(dataset: Dataset, folder: str, target: Path) -> Snapshot:
    """The folder's files materialised in `target`; the snapshot of exactly those files."""
    snapshot = take_snapshot(dataset, folder)
    materialise(list(snapshot.files.values_list("path", "sha256")), target)
    return snapshot


def extract_package(run: Run, workspace: Workspace) -> None:
    version = run.package_version
    archive_path = workspace.root / "package.zip"
    get_store().get_file(version.zip_key, archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        for member in archive.infolist():
            name = member.filename.removeprefix(version.zip_root)
            if member.is_dir() or not member.filename.startswith(version.zip_root) or not name:
                continue
            target = workspace.package / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    archive_path.unlink()


def cache_path(sha256: str) -> Path:
    return Path(cached_file(sha256))


def cached_file(sha256: str) -> str:
    """Where the worker's blob cache keeps a content; a str, as staging asks once per file."""
    return os.path.join(settings.WORKER_DIR, "blobs", sha256[:2], sha256[2:4], sha256)


def materialise(files: list[tuple[str, str]], target: Path) -> None:
    """Hard-link each file from the blob cache, fetching what the cache lacks concurrently.

    Linking is tried first: a warm cache then costs one link per file and nothing else.
    """
    for folder in {os.path.dirname(path) for path, _ in files}:
        (target / folder).mkdir(parents=True, exist_ok=True)
    lacking = link_from_cache(files, target)
    if lacking:
        fetch_into_cache({sha256 for _, sha256 in lacking})
        link_from_cache(lacking, target)


def link_from_cache(files: list[tuple[str, str]], target: Path) -> list[tuple[str, str]]:
    """Link each file whose content is cached; the files whose content is not."""
    lacking = []
    for path, sha256 in files:
        source = cached_file(sha256)
        destination = os.path.join(target, path)
        try:
            os.link(source, destination)
        except FileNotFoundError:
            lacking.append((path, sha256))
        except OSError:
            shutil.copyfile(source, destination)
    return lacking


def fetch_into_cache(contents: set[str]) -> None:
    get_store().get_many([(Blob.key_for(sha256), cache_path(sha256)) for sha256 in contents])
    for sha256 in contents:
        # Read-only, so code that writes to a linked file cannot change the cache.
        cache_path(sha256).chmod(0o444)
