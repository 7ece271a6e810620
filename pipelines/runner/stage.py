"""Staging: the package extracted and the data materialised from the worker's blob cache."""

import contextlib
import os
import shutil
import zipfile
from dataclasses import dataclass, replace
from itertools import batched
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop

from aicenter.archives import member_chunks
from aicenter.store import get_store
from aicenter.wording import say
from datasets.models import BATCH, Blob, Dataset, Snapshot
from datasets.snapshots import take_snapshot
from pipelines.models import Run
from pipelines.runner.caches import room_in_cache
from pipelines.runner.logs import RunLog
from pipelines.runner.workspace import Workspace

STAGED_ONE = gettext_noop("Staged %(count)s file of %(folder)s into %(to)s/.")
STAGED = gettext_noop("Staged %(count)s files of %(folder)s into %(to)s/.")


@dataclass(frozen=True)
class Staged:
    """The snapshots of exactly the data a run was given: its input and evaluation folders."""

    input: Snapshot | None = None
    evaluation: Snapshot | None = None

    def kept_by(self, run: Run) -> Snapshot | None:
        """The snapshot the run keeps: its input data, when it asked to save its training data."""
        return self.input if run.saves_training_data else None

    def discard_unused(self) -> None:
        """Delete, in one query, the snapshots taken here that no run went on to keep."""
        taken = [snapshot.id for snapshot in [self.input, self.evaluation] if snapshot]
        Snapshot.objects.filter(id__in=taken, runs__isnull=True).delete()


def stage(run: Run, workspace: Workspace, log: RunLog) -> Staged:
    """Fill the workspace; the snapshots of exactly what the run is given, discarded again
    if staging fails half-way."""
    extract_package(run, workspace)
    staged = Staged()
    try:
        staged = replace(
            staged, input=stage_data(run.input_dataset, run.input_path, workspace.data, log)
        )
        evaluation = stage_data(
            run.evaluation_dataset, run.evaluation_path, workspace.test_data, log
        )
        staged = replace(staged, evaluation=evaluation)
    except BaseException:
        staged.discard_unused()
        raise
    return staged


def stage_data(dataset: Dataset | None, folder: str, target: Path, log: RunLog) -> Snapshot | None:
    if dataset is None:
        return None
    snapshot = stage_folder(dataset, folder, target)
    pattern = STAGED_ONE if snapshot.file_count == 1 else STAGED
    log.system(
        say(pattern, count=snapshot.file_count, folder=f"{dataset.name}/{folder}", to=target.name)
    )
    return snapshot


def stage_folder(dataset: Dataset, folder: str, target: Path) -> Snapshot:
    """The folder's files materialised in `target`; the snapshot of exactly those files."""
    snapshot = take_snapshot(dataset, folder)
    try:
        materialise(list(snapshot.files.values_list("path", "sha256")), target)
    except BaseException:
        snapshot.delete()
        raise
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
            with open(target, "wb") as out:
                for chunk in member_chunks(archive, member):
                    out.write(chunk)
    archive_path.unlink()


def cache_path(sha256: str) -> Path:
    return Path(cached_file(sha256))


def cached_file(sha256: str) -> str:
    """Where the worker's blob cache keeps a content; a str, as staging asks once per file.

    One level of 256 folders: a second level (a folder per 65,536th of the hashes) made
    filling the cache with a thousand small files cost a folder each, 1.9 times plain
    copies; one level costs as much as the copies, and keeps each folder small."""
    return os.path.join(settings.WORKER_DIR, "blobs", sha256[:2], sha256)


def materialise(files: list[tuple[str, str]], target: Path) -> None:
    """Hard-link each file from the blob cache; fetch what the cache lacks concurrently.

    Linking is tried first: a warm cache then costs one link per file and nothing else.
    """
    for folder in {os.path.dirname(path) for path, _ in files}:
        (target / folder).mkdir(parents=True, exist_ok=True)
    lacking = link_from_cache(files, target)
    if lacking:
        fetch_lacking(lacking, target)


def link_from_cache(files: list[tuple[str, str]], target: Path) -> list[tuple[str, str]]:
    """Link each file whose content is cached; the files whose content is not."""
    lacking = []
    for path, sha256 in files:
        try:
            place(cached_file(sha256), os.path.join(target, path))
        except FileNotFoundError:
            lacking.append((path, sha256))
    return lacking


def place(source: str, destination: str, touch: bool = True) -> None:
    try:
        os.link(source, destination)
    except FileNotFoundError:
        raise
    except OSError:
        shutil.copyfile(source, destination)
    if touch:
        with contextlib.suppress(FileNotFoundError):
            os.utime(source)  # its last use, which eviction goes by


def fetch_lacking(files: list[tuple[str, str]], target: Path) -> None:
    """Each content fetched once, straight to the first file that holds it, then linked into
    the cache from there, and to the other files that hold it.

    A fetched file enters the cache whole, by a link: a temporary file renamed into the cache
    and a second link out of it made cold staging 1.2-1.35 times plain copies. Fetching after
    making room keeps the cache within its cap as it fills; contents larger than the whole
    cache come straight from the store, file by file."""
    firsts: dict[str, str] = {}
    for path, sha256 in files:
        firsts.setdefault(sha256, path)
    with room_in_cache(size_of(set(firsts))) as fits:
        if not fits:
            fetch_into_place(files, target)
            return
        # Read-only, so code that writes to a linked file cannot change the cache.
        fetched = [(Blob.key_for(sha256), target / path) for sha256, path in firsts.items()]
        get_store().get_many(fetched, read_only=True, in_place=True)
        keep_in_cache(target, firsts)
    for path, sha256 in files:
        if firsts[sha256] != path:
            place(os.path.join(target, firsts[sha256]), os.path.join(target, path), touch=False)


def keep_in_cache(target: Path, firsts: dict[str, str]) -> None:
    for folder in {os.path.dirname(cached_file(sha256)) for sha256 in firsts}:
        os.makedirs(folder, exist_ok=True)
    for sha256, path in firsts.items():
        # Cached meanwhile by another run on this host: the same bytes, either serves.
        with contextlib.suppress(FileExistsError):
            os.link(os.path.join(target, path), cached_file(sha256))


def size_of(contents: set[str]) -> int:
    return sum(
        Blob.objects.filter(sha256__in=batch).total_size() for batch in batched(contents, BATCH)
    )


def fetch_into_place(files: list[tuple[str, str]], target: Path) -> None:
    if files:
        get_store().get_many([(Blob.key_for(sha256), target / path) for path, sha256 in files])
