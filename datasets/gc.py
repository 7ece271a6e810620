"""Garbage collection of blobs: contents that no file, snapshot or run refers to any more.

A blob's row is made once its bytes are stored, and a file refers to it only
through a foreign key the database enforces, so a row that is referenced
always has its bytes. Collection deletes a row first, in a transaction that
fails if anything refers to it meanwhile, and the bytes only after that
commits. Young blobs are left alone: an upload in flight stores its contents
before it registers the files that refer to them.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from itertools import batched

from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import ProtectedError
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_q.models import Schedule

from aicenter.store import get_store
from datasets.models import BATCH, Blob

BLOB_PREFIX = "blobs/sha256/"
BLOB_KEY = re.compile(r"^blobs/sha256/[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})$")
SCHEDULE_NAME = "collect-blobs"


@dataclass(frozen=True)
class Collected:
    blobs: int = 0
    bytes: int = 0

    def __str__(self) -> str:
        blobs = f"{self.blobs} unreferenced blob{pluralize(self.blobs)}"
        return f"Removed {blobs}, freeing {self.bytes:,} bytes."


def collect_garbage(grace_seconds: int | None = None) -> Collected:
    """Delete every blob unreferenced and older than the grace period, row then bytes."""
    if grace_seconds is None:
        grace_seconds = settings.BLOB_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    adopt_strays()
    blobs = freed = 0
    candidates = Blob.objects.unreferenced().filter(created_at__lt=cutoff)
    for sha256, size in candidates.values_list("sha256", "size").iterator(chunk_size=BATCH):
        if delete_blob(sha256, cutoff):
            blobs, freed = blobs + 1, freed + size
    return Collected(blobs, freed)


def delete_blob(sha256: str, cutoff) -> bool:
    try:
        with transaction.atomic():
            gone = Blob.objects.unreferenced().filter(sha256=sha256, created_at__lt=cutoff)
            deleted, _ = gone.delete()
    except (IntegrityError, ProtectedError):
        return False  # something started to refer to it meanwhile: it stays
    if deleted:
        get_store().delete(Blob.key_for(sha256))
    return bool(deleted)


def adopt_strays() -> int:
    """Give a row to stored contents that have none (an upload stopped between the two).

    The rows are new, so the grace period passes before they can be collected.
    """
    stored = {}
    for item in get_store().list(BLOB_PREFIX):
        if match := BLOB_KEY.match(item.key):
            stored[match.group(1)] = item.size
    adopted = 0
    for batch in batched(stored, BATCH):
        known = set(Blob.objects.filter(sha256__in=batch).values_list("sha256", flat=True))
        strays = [
            Blob(sha256=sha256, size=stored[sha256]) for sha256 in batch if sha256 not in known
        ]
        Blob.objects.bulk_create(strays, ignore_conflicts=True)
        adopted += len(strays)
    return adopted


def ensure_schedules(apps=global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The daily collection, made once; connected to post_migrate."""
    try:
        schedules = apps.get_model("django_q", "Schedule")
    except LookupError:
        return  # django_q's tables are not migrated yet
    schedules.objects.using(using).get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "datasets.gc.collect_garbage", "schedule_type": Schedule.DAILY},
    )
