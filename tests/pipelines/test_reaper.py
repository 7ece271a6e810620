from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule

from pipelines.models import Run, Status
from pipelines.reaper import reap_lost_runs, requeue_stranded_runs
from pipelines.start import enqueue
from tests.pipelines.builders import dataset_with, example_version, training_pipeline


@pytest.fixture
def running(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "d", {"a.csv": b"1"})
    pipeline = training_pipeline(project, owner, version, data)
    run = pipeline.runs.get()
    Run.objects.filter(id=run.id).update(
        status=Status.RUNNING, started_at=timezone.now(), worker="far-away:42", process_group=None
    )
    return run


@pytest.fixture
def broker():
    broker = get_broker()
    broker.purge_queue()
    yield broker
    broker.purge_queue()


@pytest.fixture
def scheduled(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "d", {"a.csv": b"1"})
    return training_pipeline(project, owner, version, data).runs.get()


def queued(run, seconds_ago: int) -> None:
    Run.objects.filter(id=run.id).update(queued_at=timezone.now() - timedelta(seconds=seconds_ago))


def beat(run, seconds_ago: int) -> None:
    Run.objects.filter(id=run.id).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def test_a_run_without_a_recent_heartbeat_fails_as_worker_lost(running, settings):
    settings.HEARTBEAT_TIMEOUT = 60
    beat(running, 120)
    assert reap_lost_runs() == 1
    running.refresh_from_db()
    assert running.status == Status.FAILED
    assert running.error.startswith("Worker lost: far-away:42 sent no heartbeat since ")
    assert running.log_lines.filter(text__startswith="Worker lost").exists()


def test_a_beating_run_is_left_alone(running, settings):
    settings.HEARTBEAT_TIMEOUT = 60
    beat(running, 5)
    assert reap_lost_runs() == 0
    running.refresh_from_db()
    assert running.status == Status.RUNNING


def test_a_run_whose_task_the_broker_lost_is_queued_again_once(scheduled, broker, settings):
    settings.RUN_REQUEUE_AFTER = 60
    queued(scheduled, 120)
    assert requeue_stranded_runs() == 1
    assert broker.queue_size() == 1
    assert scheduled.log_lines.filter(text="Queued again: the broker had lost its task.").exists()
    assert requeue_stranded_runs() == 0
    assert broker.queue_size() == 1


def test_a_run_behind_other_queued_tasks_is_not_queued_again(scheduled, broker, settings):
    settings.RUN_REQUEUE_AFTER = 60
    enqueue(scheduled)
    queued(scheduled, 120)
    assert requeue_stranded_runs() == 0
    assert broker.queue_size() == 1


def test_a_recently_queued_or_killed_run_is_left_alone(scheduled, broker, settings):
    settings.RUN_REQUEUE_AFTER = 60
    queued(scheduled, 30)
    assert requeue_stranded_runs() == 0
    Run.objects.filter(id=scheduled.id).update(
        queued_at=timezone.now() - timedelta(hours=1), kill_requested=True
    )
    assert requeue_stranded_runs() == 0
    assert broker.queue_size() == 0


@pytest.mark.django_db
def test_the_reaper_is_scheduled_every_minute_after_migrating():
    reaper = Schedule.objects.get(name="reap-lost-runs")
    assert (reaper.func, reaper.schedule_type, reaper.minutes) == (
        "pipelines.tasks.reap_runs",
        Schedule.MINUTES,
        1,
    )
