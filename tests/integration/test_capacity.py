"""Scheduling by capacity on a real worker: a run that does not fit waits, saying why, and
starts once the run holding the room ends."""

import pytest

from pipelines.models import Run, Status, Worker
from pipelines.resources import GB
from tests.integration.conftest import wait_for
from tests.integration.test_runs import FAST, finished, started_run
from tests.pipelines.builders import package_version_with

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PAUSING = """\
import os, time

class Main:
    def train(self, training_directory):
        time.sleep(float(os.environ["pause"]))
        print("done", flush=True)

    def save(self):
        pass
"""


def test_a_run_needing_more_memory_than_is_free_waits_then_starts_when_the_other_ends(
    workers, api, project, owner, flowers
):
    workers.start(**FAST, WORKER_MEMORY_GB=1, CAPACITY_RETRY_SECONDS=0.5)
    worker = wait_for(lambda: Worker.objects.filter(name="host-a").first(), what="a report")
    assert worker.memory_bytes == GB
    version = package_version_with(project, owner, PAUSING)
    holding = started_run(
        api,
        project,
        version,
        name="holding",
        input_dataset=flowers.id,
        parameters={"pause": "5"},
        resources={"memory_gb": 0.75},
    )
    wait_for(lambda: Run.objects.get(id=holding).status == Status.RUNNING, what="a start")
    waiting = started_run(
        api,
        project,
        version,
        name="waiting",
        input_dataset=flowers.id,
        parameters={"pause": "0"},
        resources={"memory_gb": 0.5},
    )
    reason = "Waiting for a worker with 0.5 GB memory free."
    wait_for(lambda: Run.objects.get(id=waiting).waiting_reason == reason, what="the reason")
    assert Run.objects.get(id=waiting).status == Status.SCHEDULED
    assert api.get(f"/api/v1/projects/{project.id}/runs/{waiting}").json()["waiting"] == reason
    first, second = finished(holding), finished(waiting)
    assert [first.status, second.status] == [Status.SUCCESSFUL] * 2, [first.error, second.error]
    assert second.started_at >= first.ended_at
    assert second.waiting_reason == ""
    released = wait_for(
        lambda: Worker.objects.filter(name="host-a", running=0, reserved_memory_bytes=0).first(),
        what="the reservations to be released",
    )
    assert released.reserved_cpus == 0
