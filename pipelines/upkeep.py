"""Keeps a worker's disk in bounds: no workspace outlives its run, and the blob cache and
environments stay within their caps.

Each host tidies its own folder: when a worker process starts, after each run, and each
time it takes the reaper's task. A run's own workspace goes when the run ends; a
workspace left behind (its worker killed, the machine restarted) goes here, once its
run has ended or the process that ran it is gone; so does a network gate's folder.
"""

import fcntl
import logging
import os
import shutil
from pathlib import Path

from django.conf import settings

from pipelines.models import Run
from pipelines.runner.caches import trim_blob_cache, trim_environments
from pipelines.runner.egress import gate_owner
from pipelines.runner.host import host_name
from pipelines.runner.workspace import workspaces_here

logger = logging.getLogger(__name__)


def tidy_host() -> None:
    """Lost workspaces removed and caches trimmed, unless another process of this host is
    at it already."""
    lock = Path(settings.WORKER_DIR) / "upkeep.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        remove_lost_workspaces()
        remove_lost_gates()
        trim_blob_cache()
        trim_environments()


def tidy_host_safely(**signal_arguments) -> None:
    """At a worker process's start (django-q2's post_spawn): a failure is logged, the
    worker goes on."""
    try:
        tidy_host()
    except Exception:
        logger.exception("Tidying the worker's folder failed")


def remove_lost_workspaces() -> int:
    workspaces = workspaces_here()
    runs = Run.objects.only("status", "worker").in_bulk(set(workspaces.values()))
    removed = 0
    for folder, run_id in workspaces.items():
        if is_lost(runs.get(run_id)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def remove_lost_gates() -> int:
    """Network gates' folders whose process was killed with the gate open."""
    removed = 0
    for folder in (Path(settings.WORKER_DIR) / "gates").glob("gate-*"):
        owner = gate_owner(folder)
        if owner is not None and not process_alive(owner):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def is_lost(run: Run | None) -> bool:
    """A workspace's run is gone, or ran here and ended, or its process here is gone."""
    if run is None:
        return True
    host, _, pid = run.worker.rpartition(":")
    if host != host_name() or not pid.isdigit():
        return False
    return run.is_finished or not process_alive(int(pid))


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, as another account
    return True
