"""`aicenter dataset push`: a local folder into a dataset's folder, sending only what differs.

Resumable by construction: the service says which (path, sha256) it holds already, so a
push run again after an interruption sends only the files still missing or changed. A
local cache of (path, size, mtime) -> sha256 spares hashing unchanged files again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aicenter_client.client import Client
from aicenter_client.config import cache_folder
from aicenter_client.transfer import Bar, Counting, bar

UPLOADS_AT_ONCE = 8
# Small files go many to a request: a request costs the service more than 100 KB of bytes.
SMALL_FILE = 1024 * 1024
BATCH_FILES = 50
BATCH_BYTES = 8 * 1024 * 1024
LISTED_PER_CALL = 2000  # the most files the service compares in one call
HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    path: str  # relative to the pushed folder, with forward slashes
    full: Path
    size: int
    mtime_ns: int


@dataclass
class Plan:
    """What a push will do, once the service said what it holds."""

    files: list[LocalFile]
    hashes: dict[str, str]
    send: list[LocalFile] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.files) - len(self.send)

    @property
    def bytes_to_send(self) -> int:
        return sum(file.size for file in self.send)


def local_files(root: Path) -> list[LocalFile]:
    """Every regular file below `root`; links are not followed. One lstat a file: a resumed
    push of many small files spends most of its time here."""
    found = []
    for folder, folders, names in os.walk(root):
        folders.sort()
        above = Path(folder).relative_to(root).as_posix()
        prefix = "" if above == "." else f"{above}/"
        for name in sorted(names):
            full = Path(folder, name)
            status = os.lstat(full)
            if stat.S_ISREG(status.st_mode):
                found.append(LocalFile(prefix + name, full, status.st_size, status.st_mtime_ns))
    return found


class HashCache:
    """sha256 of files by (absolute path, size, mtime): a file that changed is hashed again."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER, "
            "mtime_ns INTEGER, sha256 TEXT)"
        )

    def known(self, files: list[LocalFile]) -> dict[str, str]:
        """The cached sha256 of the files that kept their size and mtime, read 500 at once."""
        rows = {}
        for start in range(0, len(files), 500):
            some = {str(file.full): file for file in files[start : start + 500]}
            marks = ",".join("?" * len(some))
            # Only placeholders go into the text; the paths are parameters.
            query = f"SELECT path, size, mtime_ns, sha256 FROM hashes WHERE path IN ({marks})"  # noqa: S608
            for path, size, mtime_ns, sha256 in self.db.execute(query, list(some)):
                file = some[path]
                if (size, mtime_ns) == (file.size, file.mtime_ns):
                    rows[file.path] = sha256
        return rows

    def remember(self, files: list[LocalFile], hashes: dict[str, str]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?)",
                [(str(f.full), f.size, f.mtime_ns, hashes[f.path]) for f in files],
            )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_all(files: list[LocalFile], on_hashed: Callable[[LocalFile], None]) -> dict[str, str]:
    """Every file's sha256, from the cache where the file did not change."""
    cache = HashCache(cache_folder() / "hashes.sqlite3")
    hashes = cache.known(files)
    fresh = [file for file in files if file.path not in hashes]

    def hashed(file: LocalFile) -> tuple[str, str]:
        value = sha256_of(file.full)
        on_hashed(file)
        return file.path, value

    with ThreadPoolExecutor(UPLOADS_AT_ONCE) as pool:
        hashes.update(pool.map(hashed, fresh))
    cache.remember(fresh, hashes)
    return hashes


def compare(
    client: Client, project: int, dataset: int, folder: str, plan: Plan, mirror: bool
) -> None:
    """Ask the service, a batch at a time, which files it holds; fills plan.send and
    plan.delete (the dataset's files below the folder that no batch named)."""
    held: set[str] = set()
    others: set[str] | None = None
    files = plan.files
    batches = [files[i : i + LISTED_PER_CALL] for i in range(0, len(files), LISTED_PER_CALL)]
    for batch in batches or [[]]:
        listed = {file.path: plan.hashes[file.path] for file in batch}
        answer = client.held(project, dataset, folder, listed, others=mirror)
        held.update(answer["held"])
        if mirror:
            these = set(answer["others"])
            others = these if others is None else others & these
    plan.send = [file for file in plan.files if file.path not in held]
    plan.delete = sorted(others or [])


def requests_of(files: list[LocalFile]) -> list[list[LocalFile]]:
    """The files grouped into requests: each large file alone, small ones by the batch."""
    batches: list[list[LocalFile]] = []
    batch: list[LocalFile] = []
    for file in sorted(files, key=lambda f: f.size >= SMALL_FILE):
        if file.size >= SMALL_FILE:
            batches.append([file])
            continue
        if len(batch) == BATCH_FILES or sum(f.size for f in batch) + file.size > BATCH_BYTES:
            batches.append(batch)
            batch = []
        batch.append(file)
    return [b for b in [*batches, batch] if b]


def send_all(client: Client, project: int, dataset: int, folder: str, files, bar: Bar) -> None:
    """Every file sent, requests going concurrently; the first failure stops the push."""

    def send(batch: list[LocalFile]) -> None:
        if batch[0].size >= SMALL_FILE:
            send_large(client, project, dataset, folder, batch[0], bar)
            return
        with contextlib.ExitStack() as opened:
            items = [(f.path, opened.enter_context(open(f.full, "rb"))) for f in batch]
            client.upload_files(project, dataset, folder, items)
        for file in batch:
            bar.advance(file.size)
            bar.file_done()

    with ThreadPoolExecutor(UPLOADS_AT_ONCE) as pool:
        futures = [pool.submit(send, batch) for batch in requests_of(files)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def send_large(client: Client, project: int, dataset: int, folder: str, file, bar: Bar) -> None:
    target = f"{folder}/{file.path}" if folder else file.path
    with open(file.full, "rb") as source:
        client.put_file(project, dataset, target, Counting(source, bar.advance))
    bar.file_done()


def push_folder(
    client: Client, project: int, dataset: int, root: Path, folder: str = "", **options
) -> Plan:
    """Upload `root` into the dataset's `folder`, sending only what it lacks; with
    mirror=True, delete the folder's files that `root` lacks. What was done is the plan."""
    quiet, mirror = options.get("quiet", False), options.get("mirror", False)
    folder = folder.strip("/")
    files = local_files(root)
    with bar("hashing", len(files), sum(f.size for f in files), quiet) as hashing:
        hashes = hash_all(files, lambda f: (hashing.advance(f.size), hashing.file_done()))
    plan = Plan(files, hashes)
    compare(client, project, dataset, folder, plan, mirror)
    with bar("uploading", len(plan.send), plan.bytes_to_send, quiet) as uploading:
        send_all(client, project, dataset, folder, plan.send, uploading)
    for path in plan.delete:
        client.delete_file(project, dataset, f"{folder}/{path}" if folder else path)
    return plan
