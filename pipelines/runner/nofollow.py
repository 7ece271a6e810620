"""Reading what a run's code wrote, never through a link it planted.

The code may leave a process behind that swaps a file or a folder for a link (to the
service's secret key, to "/") between the moment the publisher lists it and the moment
it reads it. So nothing is opened by a path the code can change: a folder is opened one
component at a time with O_NOFOLLOW, each relative to its parent's descriptor; a file is
opened the same way, checked with fstat on its descriptor and read from that descriptor
only. Links and special files (FIFO, socket, device) are refused, never followed, and
O_NONBLOCK keeps a FIFO from hanging the open.
"""

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext_noop

from aicenter.store import OpenFile
from aicenter.wording import Said, say

FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
# What the run's code can cause by changing its files meanwhile; other errors are the
# worker's own trouble (no descriptors or memory left) and are raised.
GONE = say(gettext_noop("it is gone"))
NOT_READABLE = say(gettext_noop("the worker may not read it"))
REFUSED_ERRORS = {
    errno.ELOOP: say(gettext_noop("it is a link")),
    errno.ENOTDIR: say(gettext_noop("a folder on its path is a link or not a folder")),
    errno.ENOENT: GONE,
    errno.ENXIO: say(gettext_noop("it is a socket or a device")),
    errno.ENODEV: say(gettext_noop("it is a device")),
    errno.EACCES: NOT_READABLE,
    errno.EPERM: NOT_READABLE,
}
LINK = REFUSED_ERRORS[errno.ELOOP]
NOT_REGULAR = say(gettext_noop("it is not a regular file"))
FOLDER, FILE = "folder", "file"


class Refused(Exception):
    """Not published: a link, a special file, or gone since it was listed; says why (a Said)."""

    @property
    def why(self) -> Said:
        return self.args[0]


@contextlib.contextmanager
def refusing() -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if error.errno not in REFUSED_ERRORS:
            raise
        raise Refused(REFUSED_ERRORS[error.errno]) from error


def descend(start: int, names: Sequence[str]) -> int:
    """A new descriptor of the folder that `names` lead to from `start`, following no link."""
    if any(name in {"", ".", ".."} for name in names):
        raise ValueError(f"Not a path beneath the folder: {'/'.join(names)!r}.")
    current = os.dup(start)
    for name in names:
        try:
            below = os.open(name, FOLDER_FLAGS, dir_fd=current)
        finally:
            os.close(current)
        current = below
    return current


def kind_of(entry: os.DirEntry) -> str:
    """FOLDER, FILE, or why the entry is refused; nothing is followed."""
    if entry.is_dir(follow_symlinks=False):
        return FOLDER
    if entry.is_file(follow_symlinks=False):
        return FILE
    return LINK if entry.is_symlink() else NOT_REGULAR


class Folder:
    """A folder the run's code wrote to, held by its descriptor: whatever it lists or opens
    is reached from that descriptor, so swapping a name for a link meanwhile leads nowhere.

    Listing and opening are separate steps on purpose: a file is checked when it is
    opened, whatever happened to it since it was listed.
    """

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor

    @classmethod
    def open(cls, path: Path) -> "Folder":
        """`path` must be absolute and free of links (resolved): none on it is followed."""
        if not Path(path).is_absolute():
            raise ValueError(f"Not an absolute path: {path}.")
        root = os.open("/", FOLDER_FLAGS)
        try:
            with refusing():
                return cls(descend(root, Path(path).parts[1:]))
        finally:
            os.close(root)

    def __enter__(self) -> "Folder":
        return self

    def __exit__(self, *exc_info) -> None:
        os.close(self._descriptor)

    def files(self, refused: Callable[[str, str], None]) -> list[str]:
        """The relative POSIX paths of the regular files beneath, sorted; every link, special
        file and folder that cannot be opened goes to `refused(path, why)` instead."""
        found, folders = [], [""]
        while folders:
            folder = folders.pop()
            try:
                entries = self._entries(folder)
            except Refused as refusal:
                refused(folder.rstrip("/"), refusal.why)
                continue
            for name, kind in entries:
                path = folder + name
                if kind == FOLDER:
                    folders.append(path + "/")
                elif kind == FILE:
                    found.append(path)
                else:
                    refused(path, kind)
        return sorted(found)

    def _entries(self, folder: str) -> list[tuple[str, str]]:
        """(name, kind) of each entry of `folder` ("" or ending in "/"), told apart while its
        descriptor is open: an entry may need it to stat itself."""
        with refusing():
            descriptor = descend(self._descriptor, folder.split("/")[:-1])
            try:
                with os.scandir(descriptor) as entries:
                    return [(entry.name, kind_of(entry)) for entry in entries]
            finally:
                os.close(descriptor)

    @contextlib.contextmanager
    def open_file(self, path: str) -> Iterator[OpenFile]:
        """The regular file at `path` (as files() lists it), with the size fstat found;
        Refused when it is anything else now."""
        with self.take_file(path) as file:
            yield OpenFile(file, os.fstat(file.fileno()).st_size)

    def take_file(self, path: str) -> BinaryIO:
        """The regular file at `path`, open for the caller to read and close; Refused when
        it is anything else now."""
        *folders, name = path.split("/")
        with refusing():
            parent = descend(self._descriptor, folders)
            try:
                descriptor = os.open(name, FILE_FLAGS, dir_fd=parent)
            finally:
                os.close(parent)
        file = os.fdopen(descriptor, "rb")
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            file.close()
            raise Refused(NOT_REGULAR)
        return file


def open_regular_file(path: Path) -> BinaryIO:
    """The regular file at the absolute, resolved `path`, reached without following links."""
    with Folder.open(path.parent) as folder:
        return folder.take_file(path.name)
