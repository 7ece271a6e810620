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


class LargeBody:
    """A multipart body of `size` bytes holding one file, made as the server reads it.

    It counts what the server read, and how much the upload folder held at each read.
    """

    BOUNDARY = "large-body"

    def __init__(self, size: int, upload_folder: Path, field: str = "file") -> None:
        self.head = (
            f"--{self.BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="large.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self.size = size
        self.upload_folder = upload_folder
        self.read_bytes = 0
        self.peak_spooled = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.BOUNDARY}"

    def environ(self) -> dict:
        """What the test client needs to send this body instead of its own."""
        return {
            "wsgi.input": self,
            "CONTENT_LENGTH": str(self.size),
            "CONTENT_TYPE": self.content_type,
        }

    def read(self, size: int = -1) -> bytes:
        self.peak_spooled = max(self.peak_spooled, folder_bytes(self.upload_folder))
        left = self.size - self.read_bytes
        size = left if size is None or size < 0 else min(size, left)
        chunk = self._between(self.read_bytes, self.read_bytes + size)
        self.read_bytes += size
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)

    def _between(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the head, the zeros of the file, then the tail."""
        body_end = self.size - len(self.tail)
        zeros = max(0, min(end, body_end) - max(start, len(self.head)))
        tail = self.tail[max(start - body_end, 0) : max(end - body_end, 0)]
        return self.head[start:end] + bytes(zeros) + tail
