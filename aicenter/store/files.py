"""Writing local files whole, and running many transfers side by side (both stores use these).

A file appears at its path only once it is complete: it is written beside it (or in the
store's own temporary folder) and moved into place.
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from aicenter.store.base import OpenFile

LOCAL_WORKERS = 8


def _temp_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")


def _replace(temp: Path, target: Path) -> None:
    # A concurrent delete may prune the freshly made parent folder: make it again once.
    for attempt in range(2):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(temp, target)
            return
        except FileNotFoundError:
            if attempt or not temp.exists():
                raise


def _move_into_place(target: Path, temp: Path, make: Callable[[Path], object]) -> None:
    """`make` writes the temporary file; only a whole file ever appears at `target`."""
    try:
        make(temp)
        _replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _write_atomically(
    target: Path, temp: Path, fill: Callable[[BinaryIO], None], read_only: bool = False
) -> None:
    def write(path: Path) -> None:
        with open(path, "xb", opener=_opener(read_only)) as out:
            fill(out)

    _move_into_place(target, temp, write)


def _copy_file(source: Path, target: Path, temp: Path) -> None:
    """Copy in the kernel (shutil.copyfile uses sendfile), then move into place.

    Copying through Python buffers made the local store 1.4-1.7 times slower than cp.
    """
    _move_into_place(target, temp, lambda path: shutil.copyfile(source, path))


def _opener(read_only: bool) -> Callable[[str, int], int]:
    # Made read-only as it is created: one system call fewer per file than a chmod after.
    return lambda path, flags: os.open(path, flags, 0o444 if read_only else 0o666)


def _created(path: Path, read_only: bool = False) -> BinaryIO:
    """A new file at `path`. One found there is replaced, never written through: it may be a
    link to bytes shared with others."""
    try:
        return open(path, "xb", opener=_opener(read_only))  # noqa: SIM115 - the caller closes it
    except FileExistsError:
        path.unlink()
        return open(path, "xb", opener=_opener(read_only))  # noqa: SIM115


def _make_folders(paths: Iterable[Path]) -> None:
    """Each distinct parent folder made once, before many files are written into them."""
    for folder in {path.parent for path in paths}:
        folder.mkdir(parents=True, exist_ok=True)


def _fetch_copy(source: BinaryIO, target: Path, read_only: bool, in_place: bool) -> None:
    """A whole copy of the open `source` at `target`, its parent already made, sent in the
    kernel. Unless `in_place`, into a temporary name beside it, then renamed: the fewest
    system calls that keep a half-written file from ever showing (staging a thousand small
    files cost 1.35-1.9 times plain copies with a folder check before and after each file,
    a chmod and a cleanup)."""
    if in_place:
        with source, _created(target, read_only) as out:
            _send(source.fileno(), out.fileno(), os.fstat(source.fileno()).st_size)
        return
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        _fetch_copy(source, temp, read_only, in_place=True)
        try:
            os.replace(temp, target)
        except FileNotFoundError:
            _replace(temp, target)  # a concurrent delete pruned its folder
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _send(source: int, target: int, size: int) -> None:
    done = 0
    while done < size:
        sent = os.sendfile(target, source, done, size - done)
        if not sent:  # the file shrank since its size was taken
            return
        done += sent


def _copy_open(source: OpenFile, target: Path, temp: Path) -> None:
    """Like _copy_file, from a file already open: its first `size` bytes, sent in the kernel.

    sendfile reads at the offsets it is given, so the file's own position never moves.
    """

    descriptor = source.file.fileno()
    _write_atomically(target, temp, lambda out: _send(descriptor, out.fileno(), source.size))


def _run_all(work: Callable, pairs: list[tuple], workers: int = LOCAL_WORKERS) -> None:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        _wait_all([pool.submit(work, *pair) for pair in pairs])


def _wait_all(futures: list[Future]) -> None:
    try:
        for future in futures:
            future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        raise
