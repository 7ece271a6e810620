"""Faults around a run: the store going away, the broker losing its queue, the database
connection dropping, the worker's disk filling up. Each ends clearly and loses nothing."""

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django_q.brokers import get_broker

from packages.models import PackageVersion
from pipelines.models import Run, Status
from pipelines.reaper import requeue_stranded_runs
from pipelines.start import enqueue
from tests.integration.conftest import wait_for
from tests.integration.test_runs import FAST, create_pipeline, finished
from tests.pipelines.builders import dataset_with, example_version, package_version_with
from tests.tcpproxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Trains once the test opens the gate (in the run's home, all the run can see), so the test
# can break something first.
GATED = """\
import os, time
from pathlib import Path

class Main:
    def train(self, training_directory):
        gate = Path(os.environ["HOME"])
        (gate / "trained").write_text("")
        print("sleeping", flush=True)
        while not (gate / "open").exists():
            time.sleep(0.1)
        if os.environ.get("write_artifact") == "yes":
            Path(os.environ["artifacts_directory"], "model.txt").write_text("weights")

    def save(self):
        Path("model.txt").write_text("weights")
"""


@pytest.fixture
def small(project):
    return dataset_with(project, "small", {"train/a.csv": b"x,y\n1,2\n"})


class Gate:
    """The gate of the runs of one worker, seen from the test: their home folders."""

    def __init__(self, worker_dir: Path) -> None:
        self.homes = worker_dir / "runs"

    def passed(self) -> bool:
        return any(self.homes.glob("*/home/trained"))

    def open(self) -> None:
        for home in self.homes.glob("*/home"):
            (home / "open").write_text("")

    def finished(self, run_id: int) -> Run:
        """The run once it ended, the gate held open for it (each run has a home of its own)."""

        def ended():
            self.open()
            run = Run.objects.get(id=run_id)
            return run if run.is_finished else None

        return wait_for(ended, timeout=90, what=f"run {run_id} to finish")


@pytest.fixture
def gate(tmp_path):
    return Gate(tmp_path / "host-a")


def gated_run(api, project, owner, data, gate, **parameters) -> int:
    version = package_version_with(project, owner, GATED, name="gated")
    pipeline = create_pipeline(api, project, version, input_dataset=data.id, parameters=parameters)
    return pipeline["runs"][0]["id"]


def wait_for_training(run_id: int, gate) -> None:
    def training_or_ended():
        run = Run.objects.get(id=run_id)
        return gate.passed() or run.is_finished

    wait_for(training_or_ended, what="train() to start")
    run = Run.objects.get(id=run_id)
    assert not run.is_finished, run.error


def run_made_nothing(run: Run) -> None:
    assert run.produced_version is None
    assert not run.artifacts.exists()
    assert run.results is None
    assert not PackageVersion.objects.filter(source="run").exists()


@pytest.fixture
def store_behind_proxy(s3_server, settings):
    """The store, reached through a proxy the test can cut as if the server stopped."""
    proxy = TcpProxy(int(s3_server.endpoint_url.rsplit(":", 1)[1])).start()
    store = s3_server.store_config("aicenter-tests", f"faults-{uuid.uuid4().hex}")
    settings.STORE = {**store, "endpoint_url": proxy.url, "public_endpoint_url": proxy.url}
    yield proxy
    proxy.stop()


@pytest.mark.parametrize(
    ("write_artifact", "failed_step"),
    [("yes", "Uploading the artifacts"), ("no", "Publishing the outputs")],
)
def test_a_store_outage_while_publishing_fails_the_run_and_registers_nothing(
    store_behind_proxy, workers, api, project, owner, small, gate, write_artifact, failed_step
):
    workers.start(**FAST)
    run_id = gated_run(api, project, owner, small, gate, write_artifact=write_artifact)
    wait_for_training(run_id, gate)
    store_behind_proxy.stop()
    gate.open()

    run = finished(run_id)
    assert run.status == Status.FAILED
    assert run.error.startswith(f"{failed_step} failed: the store could not be used (")
    run_made_nothing(run)

    store_behind_proxy.start()
    again = api.post(f"/api/v1/projects/{project.id}/pipelines/{run.pipeline_id}/runs")
    assert again.status_code == 201, again.json()
    retried = gate.finished(again.json()["id"])
    assert retried.status == Status.SUCCESSFUL, retried.error
    assert retried.produced_version.label == "1.1"


def test_runs_whose_queued_tasks_the_broker_lost_are_queued_again_and_run_once(
    workers,
    api,
    project,
    owner,
    flowers,
    settings,
):
    broker = get_broker()
    broker.purge_queue()
    version = example_version(project, owner)
    body = {"input_dataset": flowers.id, "input_path": "train"}
    run_ids = [create_pipeline(api, project, version, **body)["runs"][0]["id"] for _ in range(3)]
    assert broker.queue_size() == 3
    broker.purge_queue()  # what a Redis restart without persistence does to the queue

    settings.RUN_REQUEUE_AFTER = 1
    time.sleep(1.1)
    assert requeue_stranded_runs() == 3
    enqueue(Run.objects.get(id=run_ids[0]))  # and one task comes back twice
    workers.start(**FAST)

    for run_id in run_ids:
        run = finished(run_id)
        assert run.status == Status.SUCCESSFUL, run.error
        assert run.log_lines.filter(text__startswith=f"Run {run_id} started").count() == 1
        assert run.log_lines.filter(text__startswith="Queued again").count() == 1
    assert PackageVersion.objects.filter(source="run").count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no connection to drop")
def test_a_dropped_database_connection_is_reopened_by_the_heartbeat_and_the_run(
    workers, api, project, owner, small, gate
):
    workers.start(**FAST)
    run_id = gated_run(api, project, owner, small, gate)
    wait_for_training(run_id, gate)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1
    dropped_at = Run.objects.get(id=run_id).heartbeat_at

    wait_for(
        lambda: Run.objects.get(id=run_id).heartbeat_at > dropped_at,
        timeout=15,
        what="a heartbeat after the connection was dropped",
    )
    gate.open()
    run = finished(run_id)
    assert run.status == Status.SUCCESSFUL, run.error
    assert run.produced_version is not None


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MB filesystem for the worker's folder."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount_point)], check=True
    )
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


def test_a_full_disk_fails_the_run_saying_so_and_the_worker_goes_on(
    workers,
    api,
    project,
    owner,
    flowers,
    small_disk,
):
    workers.start(AICENTER_WORKER_DIR=small_disk, **FAST)
    version = example_version(project, owner)
    files = {f"train/{n}.csv": os.urandom(5 << 20) for n in range(4)}
    large = dataset_with(project, "large", files)
    too_large = create_pipeline(api, project, version, input_dataset=large.id)

    run = finished(too_large["runs"][0]["id"])
    assert run.status == Status.FAILED
    assert run.error.startswith("Staging the package and data failed: the worker's disk is full")
    assert "No space left on device" in run.error
    run_made_nothing(run)
    assert not any((small_disk / "runs").iterdir())

    fitting = create_pipeline(api, project, version, input_dataset=flowers.id, input_path="train")
    assert finished(fitting["runs"][0]["id"]).status == Status.SUCCESSFUL
