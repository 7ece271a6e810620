"""Schedules on real workers: a one-off fire from the cluster's own scheduler, a recurring
pipeline firing again and again, and a fire skipped while the previous run still goes."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from aicenter.models import Event, EventKind
from pipelines.models import Pipeline, Run, Status
from tests.factories import api_client
from tests.integration.conftest import wait_for
from tests.pipelines.builders import (
    dataset_with,
    package_version_with,
    post_pipeline,
    training_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# train() waits until the test releases it (a file in the run's home, all the run can see),
# so a run is certainly going during a fire.
WAITING_TRAIN = """
import os
import time


class Main:
    def __init__(self):
        pass

    def train(self, training_directory):
        while os.environ["hold"] == "true" and not os.path.exists(os.environ["HOME"] + "/go"):
            time.sleep(0.1)

    def save(self):
        pass
"""


@pytest.fixture
def version(project, owner):
    return package_version_with(project, owner, WAITING_TRAIN, name="waiter")


@pytest.fixture
def data(project):
    return dataset_with(project, "reviews", {"a.csv": b"x\n1\n"})


def create(owner, project, version, data, schedule: dict, parameters: dict) -> Pipeline:
    body = training_body(version, data, parameters=parameters, schedule=schedule)
    response = post_pipeline(api_client(owner), project, body)
    assert response.status_code == 201, response.json()
    return Pipeline.objects.get(id=response.json()["id"])


def fire_now(pipeline: Pipeline) -> None:
    """Let the schedule's time come, then run django-q2's scheduler as a cluster does."""
    Schedule.objects.filter(id=pipeline.schedule_id).update(
        next_run=timezone.now() - timedelta(seconds=1)
    )
    scheduler()


def release_runs(worker_dir: Path) -> None:
    for home in worker_dir.glob("runs/*/home"):
        (home / "go").touch()


def run_in(pipeline: Pipeline, index: int, status: str, releasing: Path | None = None) -> Run:
    """The pipeline's run number `index` once it has `status`, releasing runs meanwhile."""

    def reached():
        if releasing is not None:
            release_runs(releasing)
        runs = list(pipeline.runs.order_by("id"))
        return runs[index] if len(runs) > index and runs[index].status == status else None

    return wait_for(reached, timeout=90, what=f"run {index + 1} of the pipeline to be {status}")


def test_the_clusters_own_scheduler_fires_a_one_off_pipeline(
    workers, project, owner, version, data, tmp_path
):
    at = timezone.now() + timedelta(seconds=2)
    schedule = {"kind": "once", "at": at.isoformat()}
    pipeline = create(owner, project, version, data, schedule, {"hold": "false"})
    workers.start()
    # A cluster looks at its schedules every 30 seconds.
    run = run_in(pipeline, 0, Status.SUCCESSFUL)
    assert run.started_at >= at
    assert not Schedule.objects.filter(name=f"pipeline-{pipeline.id}").exists()


def test_a_recurring_pipeline_fires_again_and_skips_while_its_run_goes(
    workers, project, owner, version, data, tmp_path
):
    schedule = {"kind": "recurring", "every": "1m"}
    pipeline = create(owner, project, version, data, schedule, {"hold": "true"})
    workers.start()

    fire_now(pipeline)
    first = run_in(pipeline, 0, Status.RUNNING)
    fire_now(pipeline)
    skip = wait_for(
        lambda: Event.objects.filter(kind=EventKind.SCHEDULE_SKIPPED).first(),
        what="the second fire to be skipped",
    )
    # The run may still be building its environment: "packaging" is going too.
    assert re.search(rf"run #{first.id} is still (running|packaging)\.", skip.message)
    run_in(pipeline, 0, Status.SUCCESSFUL, releasing=tmp_path / "host-a")

    fire_now(pipeline)
    second = run_in(pipeline, 1, Status.SUCCESSFUL, releasing=tmp_path / "host-a")
    assert second.id != first.id
    assert pipeline.runs.count() == 2
    assert Event.objects.filter(kind=EventKind.SCHEDULE_SKIPPED).count() == 1
    schedule = Schedule.objects.get(id=pipeline.schedule_id)
    assert schedule.next_run > timezone.now()
