"""This host as a worker: what it has, what its runs hold, and the runs it hands back.

A worker takes a run only when the cores, memory and GPUs it asks for are free here
(Worker.take). django-q2 cannot put a task back in its queue, so a run that does not fit
is queued again after CAPACITY_RETRY_SECONDS, still scheduled and saying what it waits
for; since the oldest run waiting goes first, a run that ends lets it go.
"""

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_q.conf import Conf

from pipelines.models import Run, Status, Worker
from pipelines.resources import GB
from pipelines.runner import gpus
from pipelines.runner.caches import cached_blobs, environments

logger = logging.getLogger(__name__)


def host_name() -> str:
    return settings.WORKER_NAME or socket.gethostname()


def cores() -> int:
    return settings.WORKER_CPUS or len(os.sched_getaffinity(0))


def memory_bytes() -> int:
    if settings.WORKER_MEMORY_GB:
        return int(settings.WORKER_MEMORY_GB * GB)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def capacity() -> dict:
    """What this host offers its runs, and the queue it serves."""
    return {
        "queue": Conf.CLUSTER_NAME or "",
        "cpus": cores(),
        "memory_bytes": memory_bytes(),
        "gpus": len(gpus.host_devices()),
        "seen_at": timezone.now(),
    }


def this_worker() -> Worker:
    """This host's row, with what it has now."""
    worker, _ = Worker.objects.update_or_create(name=host_name(), defaults=capacity())
    return worker


def report() -> Worker:
    """The whole row: capacity, what its runs hold, and the size of its caches."""
    worker = this_worker()
    worker.count_reserved()
    worker.cache_bytes = sum(entry.size for entry in cached_blobs())
    worker.environments_bytes = sum(entry.size for entry in environments())
    worker.save()
    return worker


def release() -> None:
    """What an ended run held is free again, and the row says so."""
    worker = this_worker()
    worker.count_reserved()
    worker.save_reserved()


def hand_back(run: Run) -> bool:
    """Queue the run again after a pause, unless it was killed or taken meanwhile."""
    from pipelines.start import enqueue

    time.sleep(settings.CAPACITY_RETRY_SECONDS)
    waiting = Run.objects.filter(id=run.id, status=Status.SCHEDULED, kill_requested=False)
    if not waiting.update(queued_at=timezone.now()):
        return False
    enqueue(run)
    return True


class HostHeartbeat:
    """Reports this host every WORKER_HEARTBEAT_SECONDS while its worker process lives."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.beat, daemon=True, name="host-heartbeat")

    def start(self) -> "HostHeartbeat":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def beat(self) -> None:
        try:
            while True:
                self.once()
                if self.stopped.wait(settings.WORKER_HEARTBEAT_SECONDS):
                    return
        finally:
            connection.close()  # this thread's own connection

    def once(self) -> None:
        try:
            report()
        except DatabaseError:
            connection.close()  # reopened on the next beat
        except Exception:
            logger.exception("Reporting this worker failed")


def start_host_heartbeat(**signal_arguments) -> None:
    """At a worker process's start (django-q2's post_spawn)."""
    HostHeartbeat().start()
