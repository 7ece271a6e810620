"""Garbage collection of runs' objects: `runs/<id>/…` in the store of runs that no longer
exist (deleted with their package or project).

A run writes its objects only while its row exists, and ids are never reused, so the
objects of an id without a row can never be wanted again.
"""

import re
from dataclasses import dataclass
from itertools import batched

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS
from django_q.models import Schedule

from aicenter.store import get_store
from datasets.models import BATCH
from pipelines.models import Run

RUN_KEY = re.compile(r"^runs/(\d+)/")
SCHEDULE_NAME = "collect-run-objects"


@dataclass(frozen=True)
class Collected:
    runs: int = 0
    objects: int = 0
    bytes: int = 0

    def __str__(self) -> str:
        return (
            f"Removed {self.objects} object(s) of {self.runs} deleted run(s), "
            f"freeing {self.bytes:,} bytes."
        )


def collect_run_objects() -> Collected:
    stored = stored_runs()
    gone = set(stored)
    for batch in batched(stored, BATCH):
        gone -= set(Run.objects.filter(id__in=batch).values_list("id", flat=True))
    store, objects, freed = get_store(), 0, 0
    for run_id in sorted(gone):
        store.delete_prefix(f"runs/{run_id}/")
        objects, freed = objects + stored[run_id][0], freed + stored[run_id][1]
    return Collected(len(gone), objects, freed)


def stored_runs() -> dict[int, tuple[int, int]]:
    """The ids of the runs that have objects in the store, with their count and bytes."""
    found: dict[int, tuple[int, int]] = {}
    for item in get_store().list("runs/"):
        if match := RUN_KEY.match(item.key):
            count, size = found.get(int(match.group(1)), (0, 0))
            found[int(match.group(1))] = (count + 1, size + item.size)
    return found


def ensure_collection_schedule(apps=global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The daily collection, made once; connected to post_migrate."""
    try:
        schedules = apps.get_model("django_q", "Schedule")
    except LookupError:
        return
    schedules.objects.using(using).get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "pipelines.gc.collect_run_objects", "schedule_type": Schedule.DAILY},
    )
