"""The S3 store: objects in a bucket under an optional prefix, through boto3."""

import contextlib
import functools
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.utils.http import content_disposition_header
from s3transfer.exceptions import RetriesExceededError, S3DownloadFailedError, S3UploadFailedError

from aicenter.store.base import CHUNK, ObjectMissing, ObjectStore, OpenFile, StoredObject
from aicenter.store.files import (
    _created,
    _make_folders,
    _run_all,
    _wait_all,
    _write_atomically,
)
from aicenter.store.keys import check_key, check_prefix

S3_WORKERS = 16
DELETE_BATCH = 1000
# A bucket not made yet (it is made on the first write) holds no objects.
MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
MISSING_BUCKET_CODES = {"404", "NoSuchBucket"}


# What an S3 store raises when the server is unreachable, refuses, or fails mid-transfer.
STORE_ERRORS = (
    BotoCoreError,
    ClientError,
    RetriesExceededError,
    S3DownloadFailedError,
    S3UploadFailedError,
)


CLIENT_CONFIG = Config(
    signature_version="s3v4",
    s3={"addressing_style": "path"},
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
    max_pool_connections=S3_WORKERS,
    retries={"max_attempts": 3, "mode": "standard"},
)
# Uploads from files read each part lazily; the download queue is bounded (32 x 256 KiB).
# An open file's parts (past 8 MiB) are read into memory, ten at a time at most (80 MiB).
MANY_CONFIG = TransferConfig(
    max_concurrency=S3_WORKERS, max_io_queue=32, preferred_transfer_client="classic"
)
# A stream's parts are buffered in memory: two 8 MiB parts at a time (80 GB at most, 10,000 parts).
STREAM_CONFIG = TransferConfig(
    max_concurrency=2, max_io_queue=32, preferred_transfer_client="classic"
)
STREAM_CONFIG.max_in_memory_upload_chunks = 2


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def _missing_as(key: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        if _error_code(error) in MISSING_CODES:
            raise ObjectMissing(key) from error
        raise


class _FullReads:
    """s3transfer sends what one read() returns as a whole part, so never read short."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def read(self, amount: int = -1) -> bytes:
        first = self._stream.read(amount)
        if amount is None or amount < 0 or not first or len(first) >= amount:
            return first
        buffer = bytearray(first)
        while len(buffer) < amount and (more := self._stream.read(amount - len(buffer))):
            buffer += more
        return bytes(buffer)


class _FirstBytes:
    """The first `size` bytes of an open file, as a seekable file that ends there.

    s3transfer learns the size by seeking to the end, and reads an upload's last part in
    full: a file that grew since its size was taken would send more. Reads go through
    pread, at their own offsets; closing this leaves the file open.
    """

    def __init__(self, source: OpenFile) -> None:
        self._descriptor, self._size, self._position = source.file.fileno(), source.size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        start = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        self._position = min(max(start + offset, 0), self._size)
        return self._position

    def read(self, amount: int | None = -1) -> bytes:
        left = self._size - self._position
        amount = left if amount is None or amount < 0 else min(amount, left)
        data = os.pread(self._descriptor, amount, self._position)
        self._position += len(data)
        return data

    def close(self) -> None:
        pass


def _copy_body(body, out: BinaryIO) -> None:
    with body:
        for chunk in body.iter_chunks(CHUNK):
            out.write(chunk)


def _iter_body(body, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


_session_lock = threading.Lock()


@functools.cache
def _boto_session() -> boto3.session.Session:
    # Each new session loads the service models again (about 0.3 s). Making clients from a
    # shared session needs the lock; the clients themselves are thread-safe.
    return boto3.session.Session()


def _s3_client(config: dict, endpoint_url: str | None):
    with _session_lock:
        return _boto_session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=config.get("region") or "us-east-1",
            aws_access_key_id=config.get("access_key_id"),
            aws_secret_access_key=config.get("secret_access_key"),
            config=CLIENT_CONFIG,
        )


class S3Store(ObjectStore):
    """Objects live in a bucket under an optional prefix; keys never contain "//"."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.bucket: str = config["bucket"]
        prefix = (config.get("prefix") or "").strip("/")
        self._root = f"{check_key(prefix)}/" if prefix else ""
        self._client = _s3_client(config, config.get("endpoint_url"))
        self._bucket_ready = False
        self._lock = threading.Lock()

    @functools.cached_property
    def _public_client(self):
        # A presigned URL embeds the host it was signed for, so sign for the public one.
        endpoint = self.config.get("public_endpoint_url") or self.config.get("endpoint_url")
        return _s3_client(self.config, endpoint)

    def _full(self, key: str) -> str:
        return self._root + check_key(key)

    def _create_bucket_if_missing(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if _error_code(error) not in MISSING_BUCKET_CODES:
                raise
        region = self.config.get("region") or "us-east-1"
        extra = {} if region == "us-east-1" else {"LocationConstraint": region}
        try:
            if extra:
                self._client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration=extra)
            else:
                self._client.create_bucket(Bucket=self.bucket)
        except ClientError as error:
            if _error_code(error) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._lock:
            if not self._bucket_ready:
                self._create_bucket_if_missing()
                self._bucket_ready = True

    def put_file(self, key: str, path: Path) -> None:
        self.put_many([(path, key)])

    def put_bytes(self, key: str, data: bytes) -> None:
        full = self._full(key)
        self._ensure_bucket()
        self._client.put_object(Bucket=self.bucket, Key=full, Body=data)

    def put_stream(self, key: str, stream: BinaryIO) -> None:
        full = self._full(key)
        self._ensure_bucket()
        with create_transfer_manager(self._client, STREAM_CONFIG) as manager:
            manager.upload(_FullReads(stream), self.bucket, full).result()

    def get_file(self, key: str, path: Path) -> None:
        self.get_many([(key, path)])

    def get_bytes(self, key: str) -> bytes:
        with _missing_as(key):
            body = self._client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"]
        with body:
            return body.read()

    def open_stream(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        with _missing_as(key):
            body = self._client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"]
        return _iter_body(body, chunk_size)

    def _head(self, key: str) -> dict:
        with _missing_as(key):
            return self._client.head_object(Bucket=self.bucket, Key=self._full(key))

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except ObjectMissing:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def _pages(self, prefix: str) -> Iterator[Sequence[dict]]:
        paginator = self._client.get_paginator("list_objects_v2")
        full = self._root + check_prefix(prefix)
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                yield page.get("Contents", [])
        except ClientError as error:
            if _error_code(error) != "NoSuchBucket":
                raise

    def list(self, prefix: str) -> Iterator[StoredObject]:
        # SeaweedFS lists in folder-tree order ("a/b" before "a-c"), not in S3's byte order.
        start = len(self._root)
        found = [
            StoredObject(item["Key"][start:], int(item["Size"]))
            for page in self._pages(prefix)
            for item in page
        ]
        return iter(sorted(found, key=lambda stored: stored.key))

    def delete(self, key: str) -> None:
        with contextlib.suppress(ObjectMissing), _missing_as(key):
            self._client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("Refusing to delete the whole store: give a non-empty prefix.")
        deleted = 0
        for page in self._pages(prefix):
            for start in range(0, len(page), DELETE_BATCH):
                deleted += self._delete_batch(
                    [item["Key"] for item in page[start : start + DELETE_BATCH]]
                )
        return deleted

    def _delete_batch(self, full_keys: Sequence[str]) -> int:
        if not full_keys:
            return 0
        answer = self._client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key} for key in full_keys], "Quiet": True},
        )
        if errors := answer.get("Errors"):
            first = errors[0]
            raise OSError(f"Could not delete {first.get('Key')}: {first.get('Message')}")
        return len(full_keys)

    def put_many(self, items: Iterable[tuple[Path, str]]) -> None:
        self._upload_all([(str(path), self._full(key)) for path, key in items])

    def put_many_open(self, items: Iterable[tuple[OpenFile, str]]) -> None:
        self._upload_all([(_FirstBytes(source), self._full(key)) for source, key in items])

    def _upload_all(self, uploads: Sequence[tuple[str | _FirstBytes, str]]) -> None:
        """(file name or open file, full key) pairs, sent concurrently."""
        if not uploads:
            return
        self._ensure_bucket()
        with create_transfer_manager(self._client, MANY_CONFIG) as manager:
            _wait_all([manager.upload(source, self.bucket, full) for source, full in uploads])

    def get_many(
        self, items: Iterable[tuple[str, Path]], read_only: bool = False, in_place: bool = False
    ) -> None:
        pairs = [(check_key(key), Path(path), read_only, in_place) for key, path in items]
        _make_folders(path for _, path, _, _ in pairs)
        _run_all(self._download, pairs, S3_WORKERS)

    def _download(
        self, key: str, path: Path, read_only: bool = False, in_place: bool = False
    ) -> None:
        """One GET streamed to the file: a transfer manager would send a HEAD before each GET
        and pass every chunk through one writer thread (1.3-1.6 times slower, measured)."""
        with _missing_as(key):
            body = self._client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"]
        if in_place:
            with _created(path, read_only) as out:
                _copy_body(body, out)
            return
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        _write_atomically(path, temp, lambda out: _copy_body(body, out), read_only)

    def download_url(self, key: str, filename: str) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": self._full(key),
            "ResponseContentDisposition": content_disposition_header(True, filename),
        }
        return self._public_client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=settings.STORE_URL_MAX_AGE
        )

    def check(self) -> None:
        self._create_bucket_if_missing()
        self._bucket_ready = True
