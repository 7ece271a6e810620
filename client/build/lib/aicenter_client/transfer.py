"""Progress bars for transfers: files, bytes, rate and time left, on standard error."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

console = Console(stderr=True)


class Bar:
    """One transfer's bar: bytes move it, `file_done` counts files."""

    def __init__(self, progress: Progress, task: TaskID, files: int) -> None:
        self.progress, self.task, self.files, self.done = progress, task, files, 0

    def advance(self, size: int) -> None:
        self.progress.update(self.task, advance=size)

    def file_done(self) -> None:
        self.done += 1
        self.progress.update(self.task, files=f"{self.done}/{self.files} files")


@contextlib.contextmanager
def bar(what: str, files: int, size: int, quiet: bool = False) -> Iterator[Bar]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    )
    with progress:
        task = progress.add_task(what, total=size, files=f"0/{files} files")
        yield Bar(progress, task, files)


class Counting:
    """A file read through: each chunk read advances the bar (requests streams the body)."""

    def __init__(self, file, on_read) -> None:
        self.file, self.on_read = file, on_read

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(size)
        self.on_read(len(chunk))
        return chunk

    def __len__(self) -> int:
        # requests sends a Content-Length for a body that has one, rather than chunks.
        return os.fstat(self.file.fileno()).st_size
