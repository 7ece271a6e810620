"""What every store shares: the abstract ObjectStore, what it lists, and what it raises."""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class ObjectMissing(KeyError):
    """The key names no object in the store."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


@dataclass(frozen=True)
class OpenFile:
    """A file its caller opened and checked: the store reads `size` bytes from it, from its
    start, and never opens anything by path (the path may have changed since)."""

    file: BinaryIO
    size: int


class ObjectStore(ABC):
    @abstractmethod
    def put_file(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def put_stream(self, key: str, stream: BinaryIO) -> None: ...

    @abstractmethod
    def get_file(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def open_stream(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def list(self, prefix: str) -> Iterator[StoredObject]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int: ...

    @abstractmethod
    def put_many(self, items: Iterable[tuple[Path, str]]) -> None: ...

    @abstractmethod
    def put_many_open(self, items: Iterable[tuple[OpenFile, str]]) -> None: ...

    @abstractmethod
    def get_many(
        self, items: Iterable[tuple[str, Path]], read_only: bool = False, in_place: bool = False
    ) -> None:
        """Each key's object at its path, many at once; `read_only` files made so. A file
        appears whole at its path, unless `in_place`: written there directly, for a caller
        whose paths nothing reads before this returns."""

    @abstractmethod
    def download_url(self, key: str, filename: str) -> str: ...

    @abstractmethod
    def check(self) -> None: ...
