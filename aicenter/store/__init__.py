"""The object store: one interface over a local folder or an S3 bucket.

Every app keeps its files (packages, datasets, run outputs) here under keys such
as "projects/7/datasets/3/data.csv". Large objects are always streamed, never
held whole in memory.
"""

import functools
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aicenter.store.base import ObjectMissing, ObjectStore, OpenFile, StoredObject
from aicenter.store.keys import check_key, check_prefix
from aicenter.store.local import DOWNLOAD_SALT, LocalStore
from aicenter.store.s3 import STORE_ERRORS, S3Store

__all__ = [
    "DOWNLOAD_SALT",
    "STORE_ERRORS",
    "LocalStore",
    "ObjectMissing",
    "ObjectStore",
    "OpenFile",
    "S3Store",
    "StoredObject",
    "check_key",
    "check_prefix",
    "get_store",
]


@functools.cache
def get_store() -> ObjectStore:
    config = settings.STORE
    kind = config.get("kind")
    if kind == "local":
        return LocalStore(Path(config["root"]))
    if kind == "s3":
        return S3Store(config)
    raise ImproperlyConfigured(f"STORE kind must be 'local' or 's3', not {kind!r}.")
