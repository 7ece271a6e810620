"""A run's metrics through the API: each metric's summary, and its points after a step,
page by page; nothing of them outside the caller's projects."""

import pytest
from django.utils import timezone

from pipelines.api import POINTS_PAGE
from pipelines.models import Run, Status
from tests.factories import api_client
from tests.pipelines.builders import report, run_of, snapshotting_pipeline


@pytest.fixture
def run(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"})
    Run.objects.filter(pipeline=pipeline).delete()
    run = run_of(pipeline, Status.RUNNING, worker="here:1", heartbeat_at=timezone.now())
    report(run, "loss", [1 / (step + 1) for step in range(POINTS_PAGE + 5)])
    report(run, "accuracy", [0.5, None])
    report(run, "val/loss", [0.25])
    return run


def url(run: Run, tail: str = "") -> str:
    return f"/api/v1/projects/{run.project_id}/runs/{run.id}/metrics{tail}"


def test_the_summary_names_each_metric_with_its_last_min_max_and_count(run, viewer):
    answer = api_client(viewer).get(url(run))
    assert answer.status_code == 200
    assert answer.json()["items"] == [
        {"name": "accuracy", "last": None, "min": 0.5, "max": 0.5, "count": 2},
        {
            "name": "loss",
            "last": 1 / (POINTS_PAGE + 5),
            "min": 1 / (POINTS_PAGE + 5),
            "max": 1.0,
            "count": POINTS_PAGE + 5,
        },
        {"name": "val/loss", "last": 0.25, "min": 0.25, "max": 0.25, "count": 1},
    ]


def test_points_come_by_step_page_by_page(run, owner):
    client = api_client(owner)
    first = client.get(url(run, "/loss")).json()
    assert first["count"] == POINTS_PAGE + 5
    assert [p["step"] for p in first["items"]] == list(range(POINTS_PAGE))
    assert first["items"][1]["value"] == 0.5
    assert first["items"][0]["time"].endswith("+00:00")
    rest = client.get(first["next"]).json()
    assert [p["step"] for p in rest["items"]] == list(range(POINTS_PAGE, POINTS_PAGE + 5))
    assert rest["next"] is None


def test_points_after_a_step_follow_a_run_that_goes_on(run, owner):
    answer = api_client(owner).get(url(run, "/loss"), {"after": POINTS_PAGE + 2}).json()
    assert [p["step"] for p in answer["items"]] == [POINTS_PAGE + 3, POINTS_PAGE + 4]
    gaps = api_client(owner).get(url(run, "/accuracy")).json()["items"]
    assert [p["value"] for p in gaps] == [0.5, None]


def test_a_name_with_a_slash_is_one_metric(run, owner):
    answer = api_client(owner).get(url(run, "/val/loss")).json()
    assert [(p["step"], p["value"]) for p in answer["items"]] == [(0, 0.25)]


def test_a_metric_the_run_never_reported_is_404(run, owner):
    assert api_client(owner).get(url(run, "/precision")).status_code == 404


def test_a_run_without_metrics_has_an_empty_summary(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"})
    quiet = pipeline.runs.get()
    assert api_client(owner).get(url(quiet)).json() == {"items": []}


def test_an_outsider_gets_404_for_a_runs_metrics(run, outsider):
    client = api_client(outsider)
    assert client.get(url(run)).status_code == 404
    assert client.get(url(run, "/loss")).status_code == 404
