"""Staging: the package extracted and the data materialised from the worker's blob cache."""

import os
import shutil
import zipfile
from pathlib import Path

from django.conf import settings

from aicenter.store import get_store
from datasets.models import Blob
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
        snapshot = take_snapshot(dataset, folder)
        files = list(snapshot.files.values_list("path", "sha256"))
        materialise(files, target)
        log.system(f"Staged {len(files)} files of {dataset.name}/{folder} into {target.name}/.")
        snapshots.append(snapshot)
    return snapshots


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
    return Path(settings.WORKER_DIR) / "blobs" / sha256[:2] / sha256[2:4] / sha256


def materialise(files: list[tuple[str, str]], target: Path) -> None:
    """Hard-link each file from the blob cache, fetching what the cache lacks concurrently."""
    missing = {sha256 for _, sha256 in files if not cache_path(sha256).exists()}
    get_store().get_many([(Blob.key_for(sha256), cache_path(sha256)) for sha256 in missing])
    for sha256 in missing:
        # Read-only, so code that writes to a linked file cannot change the cache.
        cache_path(sha256).chmod(0o444)
    for path, sha256 in files:
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(cache_path(sha256), destination)
        except OSError:
            shutil.copyfile(cache_path(sha256), destination)
