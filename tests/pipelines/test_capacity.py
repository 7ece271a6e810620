"""Scheduling by capacity: a worker takes a run only when what it asks for is free there,
reserves it in its row, and frees it when the run ends; the oldest waiting run goes first."""

import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker

from pipelines.models import Run, Status, Taken, Worker
from pipelines.resources import GB
from pipelines.runner import host
from tests.factories import make_dataset
from tests.pipelines.builders import example_version, run_of, training_pipeline


@pytest.fixture
def small_host(settings):
    """This host offers two cores and 8 GB, whatever the machine has."""
    settings.WORKER_NAME, settings.WORKER_CPUS, settings.WORKER_MEMORY_GB = "host-a", 2, 8
    settings.GPU_DEVICES = []
    return settings


@pytest.fixture
def pipeline(project, owner):
    data = make_dataset(project, files={"train/a.csv": b"x,y\n1,2\n"})
    return training_pipeline(project, owner, example_version(project, owner), data)


def scheduled(pipeline, **resources) -> Run:
    run = run_of(pipeline)
    Run.objects.filter(id=run.id).update(**resources)
    return Run.objects.get(id=run.id)


def take(run: Run, process: int = 1) -> str:
    return host.this_worker().take(run, f"host-a:{process}")


@pytest.mark.django_db
def test_a_worker_takes_runs_while_they_fit_and_hands_back_the_next(small_host, pipeline):
    first, second, third = (scheduled(pipeline, cpus=1, memory_gb=4) for _ in range(3))
    assert [take(first), take(second)] == [Taken.YES, Taken.YES]
    assert take(third) == Taken.NO_ROOM
    third.refresh_from_db()
    assert third.status == Status.SCHEDULED
    assert third.waiting_reason == "Waiting for a worker with 1 core and 4 GB memory free."
    worker = Worker.objects.get(name="host-a")
    assert (worker.cpus, worker.memory_bytes, worker.gpus) == (2, 8 * GB, 0)
    assert worker.reserved == (2, 8 * GB, 0)
    assert worker.running == 2


@pytest.mark.django_db
def test_a_run_that_ends_frees_what_it_held_and_the_waiting_run_goes(small_host, pipeline):
    first = scheduled(pipeline, cpus=1, memory_gb=6)
    waiting = scheduled(pipeline, cpus=1, memory_gb=6)
    assert take(first) == Taken.YES
    assert take(waiting) == Taken.NO_ROOM
    assert Run.objects.get(id=waiting.id).waiting_reason == (
        "Waiting for a worker with 6 GB memory free."
    )
    first.fail("Boom.")
    host.release()
    assert Worker.objects.get(name="host-a").reserved == (0, 0, 0)
    assert take(Run.objects.get(id=waiting.id)) == Taken.YES
    waiting.refresh_from_db()
    assert (waiting.status, waiting.waiting_reason) == (Status.RUNNING, "")
    assert Worker.objects.get(name="host-a").reserved == (1, 6 * GB, 0)


@pytest.mark.django_db
def test_the_oldest_waiting_run_goes_before_a_newer_one_that_would_fit(small_host, pipeline):
    running = scheduled(pipeline, cpus=1, memory_gb=2)
    large = scheduled(pipeline, cpus=2, memory_gb=8)
    small = scheduled(pipeline, cpus=1, memory_gb=1)
    assert take(running) == Taken.YES
    assert take(large) == Taken.NO_ROOM
    assert take(small) == Taken.NO_ROOM
    assert Run.objects.get(id=small.id).waiting_reason == (
        f"Waiting behind run #{large.id}, which came first."
    )
    running.fail("Done.")
    assert take(Run.objects.get(id=large.id)) == Taken.YES


@pytest.mark.django_db
def test_a_run_larger_than_this_worker_does_not_hold_back_the_others(small_host, pipeline):
    huge = scheduled(pipeline, cpus=1, memory_gb=64)
    small = scheduled(pipeline, cpus=1, memory_gb=1)
    assert take(huge) == Taken.NO_ROOM
    assert take(small) == Taken.YES


@pytest.mark.django_db
def test_a_run_killed_or_taken_meanwhile_is_not_taken(small_host, pipeline):
    killed = scheduled(pipeline)
    killed.request_kill()
    taken = scheduled(pipeline)
    assert take(taken, process=1) == Taken.YES
    assert take(Run.objects.get(id=taken.id), process=2) == Taken.GONE
    assert take(Run.objects.get(id=killed.id)) == Taken.GONE
    assert Worker.objects.get(name="host-a").running == 1


@pytest.mark.django_db
def test_a_handed_back_run_is_queued_again_unless_it_was_killed(small_host, pipeline):
    small_host.CAPACITY_RETRY_SECONDS = 0.01
    queue = get_broker()
    waiting, killed = scheduled(pipeline), scheduled(pipeline)
    before, queued = queue.queue_size(), waiting.queued_at
    assert host.hand_back(waiting)
    assert Run.objects.get(id=waiting.id).queued_at > queued
    killed.request_kill()
    assert not host.hand_back(killed)
    assert queue.queue_size() == before + 1


@pytest.mark.django_db
def test_the_report_counts_caches_and_runs(small_host, pipeline, tmp_path):
    small_host.WORKER_DIR = tmp_path
    blob = tmp_path / "blobs" / "ab" / ("ab" + "c" * 62)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"x" * 1000)
    assert take(scheduled(pipeline)) == Taken.YES
    worker = host.report()
    assert (worker.cache_bytes, worker.environments_bytes, worker.running) == (1000, 0, 1)
    assert (timezone.now() - worker.seen_at).total_seconds() < 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_reserve_more_than_the_worker_has(small_host, pipeline):
    runs = [scheduled(pipeline, cpus=1, memory_gb=1) for _ in range(6)]
    host.this_worker()
    start, taken = threading.Barrier(len(runs)), []

    def claim(run: Run, process: int) -> None:
        try:
            start.wait()
            taken.append(take(run, process))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(run, index)) for index, run in enumerate(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken).count(Taken.YES) == 2  # two cores
    assert Run.objects.filter(status=Status.RUNNING).count() == 2
    assert Worker.objects.get(name="host-a").reserved == (2, 2 * GB, 0)
