"""A worker's blob cache and environments stay within their caps (WORKER_CACHE_MAX_BYTES,
WORKER_ENVS_MAX_BYTES): the least recently used go first, and nothing a running run uses.

A staged file is a hard link to its cached blob, so removing the blob from the cache
leaves the run's copy whole; the cache may drop any blob. An environment is used in
place, so a run holds its lock shared while it runs, and eviction removes only an
environment whose lock it can take exclusively at once.
"""

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from pipelines.runner.environments import (
    READY_MARKER,
    SIZE_MARKER,
    environments_root,
    folder_size,
    host_lock,
    use_lock,
)


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int
    used_at: float


def evict(entries: list[Entry], cap: int, remove: Callable[[Entry], bool]) -> int:
    """Remove the least recently used entries until the rest fit in `cap`; `remove` says
    False for an entry in use, which stays. The bytes left."""
    total = sum(entry.size for entry in entries)
    for entry in sorted(entries, key=lambda entry: entry.used_at):
        if total <= cap:
            break
        if remove(entry):
            total -= entry.size
    return total


def blob_cache() -> Path:
    return Path(settings.WORKER_DIR) / "blobs"


def cached_blobs() -> list[Entry]:
    """Every cached blob; staging sets a blob's modification time when it links it."""
    drop_older_layout()
    return [
        Entry(Path(entry.path), found.st_size, found.st_mtime)
        for entry in files_below(blob_cache(), depth=1)
        if (found := lstat_or_none(entry)) is not None
    ]


def drop_older_layout() -> None:
    """Blobs cached under two levels of folders (blobs/ab/cd/<hash>), as before, are never
    linked again: their folders go, and staging fetches such a content once more."""
    for entry in folders_below(blob_cache(), depth=1):
        shutil.rmtree(entry.path, ignore_errors=True)


def files_below(folder: Path, depth: int) -> Iterator[os.DirEntry]:
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and depth > 0:
            yield from files_below(Path(entry.path), depth - 1)
        elif entry.is_file(follow_symlinks=False) and depth == 0:
            yield entry


def folders_below(folder: Path, depth: int) -> Iterator[os.DirEntry]:
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from folders_below(Path(entry.path), depth - 1) if depth > 0 else [entry]


def lstat_or_none(entry: os.DirEntry) -> os.stat_result | None:
    try:
        return entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None  # another process of this host evicted it meanwhile


def remove_blob(entry: Entry) -> bool:
    entry.path.unlink(missing_ok=True)  # or another process of this host evicted it
    return True


def trim_blob_cache() -> int:
    """Evict down to the cap; the bytes left."""
    with host_lock(blob_cache_lock()):
        return evict(cached_blobs(), settings.WORKER_CACHE_MAX_BYTES, remove_blob)


@contextmanager
def room_in_cache(size: int) -> Iterator[bool]:
    """Room made for `size` bytes about to be fetched, held until they are: fetches on one
    host take turns, so together they never pass the cap. False when they cannot fit."""
    with host_lock(blob_cache_lock()):
        if size > settings.WORKER_CACHE_MAX_BYTES:
            yield False
            return
        evict(cached_blobs(), settings.WORKER_CACHE_MAX_BYTES - size, remove_blob)
        yield True


def blob_cache_lock() -> Path:
    return Path(settings.WORKER_DIR) / "blobs.lock"


def environments() -> list[Entry]:
    """Every environment folder, ready or left half-built, with when a run last used it."""
    try:
        folders = [Path(entry.path) for entry in os.scandir(environments_root()) if entry.is_dir()]
    except FileNotFoundError:
        return []
    return [Entry(folder, environment_size(folder), last_used(folder)) for folder in folders]


def environment_size(folder: Path) -> int:
    """Measured once when built (or, for an older one, at its first trim): a ready
    environment does not change."""
    try:
        return int((folder / SIZE_MARKER).read_text())
    except (FileNotFoundError, ValueError):
        size = folder_size(folder)
    if (folder / READY_MARKER).exists():
        (folder / SIZE_MARKER).write_text(str(size))
    return size


def last_used(folder: Path) -> float:
    try:
        return (folder / READY_MARKER).stat().st_mtime
    except FileNotFoundError:
        return folder.stat().st_mtime


def remove_environment(entry: Entry) -> bool:
    """Removed only when no run holds it; its lock file stays, for a run already waiting."""
    with open(use_lock(entry.path), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # Not ready first: a run that takes the lock next builds it again.
        (entry.path / READY_MARKER).unlink(missing_ok=True)
        shutil.rmtree(entry.path, ignore_errors=True)
        return True


def trim_environments() -> int:
    with host_lock(Path(settings.WORKER_DIR) / "envs.lock"):
        return evict(environments(), settings.WORKER_ENVS_MAX_BYTES, remove_environment)
