"""A run's metrics reach the API while it still runs, read by a real worker; the demo's
first launch runs an example that charts loss and accuracy per epoch."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from aicenter.models import Project
from pipelines.models import Status
from tests.factories import logged_in_client
from tests.integration.conftest import wait_for
from tests.integration.test_runs import FAST, finished, started_run
from tests.pipelines.builders import package_version_with

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REPORTING_THEN_WAITING = """\
import json, os, time

class Main:
    def train(self, training_directory):
        with open(os.environ["metrics_file"], "a") as metrics:
            for epoch in range(3):
                metrics.write(json.dumps({"loss": 1 / (epoch + 1), "accuracy": epoch / 4}) + "\\n")
                metrics.flush()
        time.sleep(120)

    def save(self):
        pass
"""


def test_points_are_readable_through_the_api_before_the_run_ends(
    workers, api, project, owner, flowers
):
    workers.start(**FAST)
    version = package_version_with(project, owner, REPORTING_THEN_WAITING)
    run_id = started_run(api, project, version, input_dataset=flowers.id)
    base = f"/api/v1/projects/{project.id}/runs/{run_id}"

    def three_losses():
        items = api.get(f"{base}/metrics").json()["items"]
        return items if [item["count"] for item in items] == [3, 3] else None

    summary = wait_for(three_losses, timeout=60, what="the run's metrics")
    assert api.get(base).json()["status"] == Status.RUNNING
    assert summary[1] == {"name": "loss", "last": 1 / 3, "min": 1 / 3, "max": 1.0, "count": 3}
    points = api.get(f"{base}/metrics/accuracy").json()["items"]
    assert [(p["step"], p["value"]) for p in points] == [(0, 0.0), (1, 0.25), (2, 0.5)]

    api.post(f"{base}/kill")
    assert finished(run_id, timeout=30).status == Status.KILLED
    assert api.get(f"{base}/metrics").json()["items"] == summary


def test_the_demos_first_launch_shows_learning_curves(workers, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    workers.start(**FAST)
    project = Project.objects.get(name="Demo")
    run = project.pipelines.get(name="flowers-epochs").runs.get()
    ended = finished(run.id, timeout=300)
    assert ended.status == Status.SUCCESSFUL, ended.error
    demo = logged_in_client(get_user_model().objects.get(username="demo"))
    page = demo.get(reverse("pipelines:run-metrics", args=[project.id, run.id])).content.decode()
    assert page.count("<svg") == 2
    assert "<td>accuracy</td>" in page and "<td>loss</td>" in page
    assert page.count('<td class="num">30</td>') == 2  # an epoch a point
