"""Hostile inputs for upload tests, and a measure of the temporary disk they cost."""

import contextlib
import io
import os
import threading
import zipfile
from pathlib import Path

from tests.factories import entry_name, package_files

MiB = 1024 * 1024


def small_member_bomb(count: int, files: dict[str, str] | None = None) -> bytes:
    """`count` members of 1 MiB of zeros each: every one under the per-member ratio floor."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (files or {}).items():
            archive.writestr(name, content)
        zeros = bytes(MiB)
        for index in range(count):
            archive.writestr(f"zeros/{index:05}.bin", zeros)
    return buffer.getvalue()


def package_bomb(count: int) -> bytes:
    return small_member_bomb(count, package_files())


def central_entry(archive: bytearray, name: str) -> int:
    entry = archive.index(b"PK\x01\x02")
    while entry_name(archive, entry) != name.encode():
        entry = archive.index(b"PK\x01\x02", entry + 4)
    return entry


def local_header(archive: bytearray, name: str) -> int:
    offset = central_entry(archive, name) + 42
    return int.from_bytes(archive[offset : offset + 4], "little")


def encrypted(content: bytes, name: str) -> bytes:
    """As `zip -P` marks a member: the 'encrypted' flag, in both of its headers."""
    archive = bytearray(content)
    archive[central_entry(archive, name) + 8] |= 0x1
    archive[local_header(archive, name) + 6] |= 0x1
    return bytes(archive)


def bad_crc(content: bytes, name: str) -> bytes:
    archive = bytearray(content)
    crc = central_entry(archive, name) + 16
    archive[crc : crc + 4] = bytes(byte ^ 0xFF for byte in archive[crc : crc + 4])
    return bytes(archive)


def unknown_method(content: bytes, name: str, method: int = 99) -> bytes:
    archive = bytearray(content)
    archive[central_entry(archive, name) + 10 : central_entry(archive, name) + 12] = (
        method.to_bytes(2, "little")
    )
    local = local_header(archive, name) + 8
    archive[local : local + 2] = method.to_bytes(2, "little")
    return bytes(archive)


UNREADABLE_KINDS = {"encrypted": encrypted, "bad crc": bad_crc, "method 99": unknown_method}


def folder_bytes(folder: Path) -> int:
    """What the files below `folder` hold now; files vanishing meanwhile count as gone."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


class PeakDiskUse:
    """The most bytes `folder` held while the block ran, sampled every millisecond."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakDiskUse":
        self._sampler.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._sampler.join()

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, folder_bytes(self.folder))
            if self._done.wait(0.001):
                return
