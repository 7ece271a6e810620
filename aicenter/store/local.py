"""The local store: objects are files in a private folder; its downloads are opaque links."""

import base64
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken
from django.urls import reverse
from django.utils.crypto import salted_hmac

from aicenter.env import private_dir
from aicenter.store.base import CHUNK, ObjectMissing, ObjectStore, OpenFile, StoredObject
from aicenter.store.files import (
    _copy_file,
    _copy_open,
    _fetch_copy,
    _make_folders,
    _run_all,
    _temp_beside,
    _write_atomically,
)
from aicenter.store.keys import check_key, check_prefix

DOWNLOAD_SALT = "aicenter.store.download"
LOCAL_TMP = ".tmp"


def _download_cipher() -> Fernet:
    # From SECRET_KEY, so every web server of the service opens the links the others made.
    key = salted_hmac(DOWNLOAD_SALT, "download links", algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def download_token(key: str, filename: str) -> str:
    """An encrypted claim on one object: a link shows neither its key nor its hash."""
    claim = json.dumps({"k": key, "f": filename}).encode()
    return _download_cipher().encrypt(claim).decode()


def download_claim(token: str, max_age: int) -> dict[str, str]:
    """The key and filename a token of download_token holds; InvalidToken if forged or expired."""
    try:
        return json.loads(_download_cipher().decrypt(token.encode(), ttl=max_age))
    except ValueError:
        raise InvalidToken from None


def _copier(source: BinaryIO) -> Callable[[BinaryIO], None]:
    return lambda out: shutil.copyfileobj(source, out, CHUNK)


def _read_chunks(source: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with source:
        while chunk := source.read(chunk_size):
            yield chunk


class LocalStore(ObjectStore):
    """Objects are files under root; writes land in root/.tmp first, then move in place."""

    def __init__(self, root: Path | str) -> None:
        # Private: a run's code, working as another account, must not read other projects' data.
        self.root = private_dir(Path(root))

    def _path(self, key: str) -> Path:
        if check_key(key).split("/", 1)[0] == LOCAL_TMP:
            raise ValueError(f"Object key {key!r} must not start with the reserved '{LOCAL_TMP}/'.")
        return self.root / key

    def _temp(self) -> Path:
        folder = self.root / LOCAL_TMP
        folder.mkdir(parents=True, exist_ok=True)
        return folder / uuid.uuid4().hex

    def _write(self, key: str, fill: Callable[[BinaryIO], None]) -> None:
        _write_atomically(self._path(key), self._temp(), fill)

    def open_file(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(key) from None

    def put_file(self, key: str, path: Path) -> None:
        _copy_file(Path(path), self._path(key), self._temp())

    def put_bytes(self, key: str, data: bytes) -> None:
        self._write(key, lambda out: out.write(data))

    def put_stream(self, key: str, stream: BinaryIO) -> None:
        self._write(key, _copier(stream))

    def get_file(self, key: str, path: Path) -> None:
        source = self._path(key)
        if not source.is_file():
            raise ObjectMissing(key)
        _copy_file(source, Path(path), _temp_beside(Path(path)))

    def get_bytes(self, key: str) -> bytes:
        with self.open_file(key) as source:
            return source.read()

    def open_stream(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        return _read_chunks(self.open_file(key), chunk_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectMissing(key)
        return path.stat().st_size

    def list(self, prefix: str) -> Iterator[StoredObject]:
        folder = check_prefix(prefix).rpartition("/")[0]
        start = self.root / folder if folder else self.root
        return self._walk(start, f"{folder}/" if folder else "", prefix)

    def _walk(self, folder: Path, base: str, prefix: str) -> Iterator[StoredObject]:
        """Yield files in key order: a folder sorts as its name plus "/"."""
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        named = [
            (base + e.name + ("/" if e.is_dir(follow_symlinks=False) else ""), e) for e in entries
        ]
        for key, entry in sorted(named, key=lambda pair: pair[0]):
            if key == f"{LOCAL_TMP}/":
                continue
            if key.endswith("/"):
                if key.startswith(prefix) or prefix.startswith(key):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif key.startswith(prefix) and entry.is_file(follow_symlinks=False):
                yield StoredObject(key, entry.stat().st_size)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return
        self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("Refusing to delete the whole store: give a non-empty prefix.")
        keys = [stored.key for stored in self.list(prefix)]
        for key in keys:
            self.delete(key)
        return len(keys)

    def put_many(self, items: Iterable[tuple[Path, str]]) -> None:
        pairs = [(check_key(key), Path(path)) for path, key in items]
        _run_all(self.put_file, pairs)

    def put_many_open(self, items: Iterable[tuple[OpenFile, str]]) -> None:
        pairs = [(source, check_key(key)) for source, key in items]
        _run_all(self._put_open, pairs)

    def _put_open(self, source: OpenFile, key: str) -> None:
        _copy_open(source, self._path(key), self._temp())

    def get_many(
        self, items: Iterable[tuple[str, Path]], read_only: bool = False, in_place: bool = False
    ) -> None:
        pairs = [(check_key(key), Path(path)) for key, path in items]
        _make_folders(path for _, path in pairs)
        _run_all(
            lambda key, path: _fetch_copy(self.open_file(key), path, read_only, in_place), pairs
        )

    def download_url(self, key: str, filename: str) -> str:
        return reverse("store-download", args=[download_token(check_key(key), filename)])

    def check(self) -> None:
        probe = self._temp()
        probe.write_bytes(b"")
        probe.unlink()
