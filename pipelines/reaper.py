"""Keeps runs moving when parts fail: no run stays `running` or `scheduled` for ever.

A run whose worker stopped beating is failed. A run still scheduled long after its task
was queued, while its queue holds no task, is queued again: the broker lost the task.
Queuing it twice is safe, since only one delivery can claim the run.
"""

from datetime import timedelta

from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule

from aicenter.wording import say
from pipelines.models import STARTED, Run, Status
from pipelines.runner.execute import end_group
from pipelines.runner.host import host_name
from pipelines.runner.logs import note
from pipelines.start import enqueue

REAPER_SCHEDULE = "reap-lost-runs"
WORKER_LOST = gettext_noop("Worker lost: %(worker)s sent no heartbeat since %(since)s UTC.")
THE_WORKER_LOST = gettext_noop("Worker lost: the worker sent no heartbeat since %(since)s UTC.")


def reap_lost_runs() -> int:
    """Fail every started run without a heartbeat for HEARTBEAT_TIMEOUT seconds."""
    cutoff = timezone.now() - timedelta(seconds=settings.HEARTBEAT_TIMEOUT)
    lost = Run.objects.filter(status__in=STARTED, heartbeat_at__lt=cutoff)
    reaped = 0
    for run in lost:
        reaped += reap(run, cutoff)
    return reaped


def reap(run: Run, cutoff) -> int:
    message = say(
        WORKER_LOST if run.worker else THE_WORKER_LOST,
        worker=run.worker,
        since=f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S}",
    )
    if not run.lose(message, silent_since=cutoff):
        return 0
    if run.process_group and run.worker.split(":")[0] == host_name():
        end_group(run.process_group)
    return 1


def requeue_stranded_runs() -> int:
    """Queue again the scheduled runs whose task the broker no longer holds."""
    cutoff = timezone.now() - timedelta(seconds=settings.RUN_REQUEUE_AFTER)
    waiting = Run.objects.filter(status=Status.SCHEDULED, kill_requested=False)
    requeued = 0
    for runs_of_queue, queue in [
        ({"gpus": 0}, Conf.CLUSTER_NAME),
        ({"gpus__gt": 0}, settings.GPU_CLUSTER),
    ]:
        stranded = list(waiting.filter(**runs_of_queue, queued_at__lt=cutoff))
        if stranded and get_broker(list_key=queue).queue_size() == 0:
            requeued += sum(requeue(run, cutoff) for run in stranded)
    return requeued


def requeue(run: Run, cutoff) -> int:
    taken = Run.objects.filter(id=run.id, status=Status.SCHEDULED, queued_at__lt=cutoff).update(
        queued_at=timezone.now()
    )
    if taken:
        enqueue(run)
        note(run, say(gettext_noop("Queued again: the broker had lost its task.")))
    return taken


def ensure_reaper_schedule(apps=global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """The reaper runs every minute on whichever worker takes it; made once after migrating."""
    try:
        schedules = apps.get_model("django_q", "Schedule")
    except LookupError:
        return
    schedules.objects.using(using).update_or_create(
        name=REAPER_SCHEDULE,
        defaults={
            "func": "pipelines.tasks.reap_runs",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
        },
    )
