"""Two worker hosts share one database, broker and store: runs spread, each runs once."""

import pytest

from aicenter.models import Event, EventKind
from packages.examples import EXAMPLES
from packages.models import PackageVersion
from pipelines.models import Run, Status
from tests.factories import api_client
from tests.integration.conftest import wait_for
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    post_pipeline,
    training_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RUNS = 20


def test_twenty_runs_on_two_hosts_all_succeed_once_each(workers, project, owner):
    version = example_version(project, owner)
    rows = (EXAMPLES.parent / "datasets" / "flowers" / "train" / "flowers.csv").read_bytes()
    data = dataset_with(project, "flowers", {"train/flowers.csv": rows})
    workers.start("host-a", HEARTBEAT_SECONDS=1)
    workers.start("host-b", HEARTBEAT_SECONDS=1)
    client = api_client(owner)
    for number in range(RUNS):
        body = training_body(version, data, name=f"burst-{number}", input_path="train")
        assert post_pipeline(client, project, body).status_code == 201

    def all_ended():
        return not Run.objects.filter(status__in=[Status.SCHEDULED, Status.RUNNING]).exists()

    wait_for(all_ended, timeout=240, every=0.5, what=f"{RUNS} runs to end")
    runs = list(Run.objects.all())
    assert [run.status for run in runs] == [Status.SUCCESSFUL] * RUNS, [r.error for r in runs]
    started = Event.objects.filter(kind=EventKind.RUN_STARTED)
    assert sorted(started.values_list("link", flat=True)) == sorted(
        run.get_absolute_url() for run in runs
    )  # each run was claimed exactly once
    assert {run.worker.split(":")[0] for run in runs} == {"host-a", "host-b"}
    minors = PackageVersion.objects.filter(package=version.package, major=1).exclude(minor=0)
    assert sorted(minors.values_list("minor", flat=True)) == list(range(1, RUNS + 1))
