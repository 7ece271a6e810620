"""The Metrics tab of Pipeline Details: a table of each metric's last, min and max, and a
chart per metric drawn on the server, asking for itself again while the run goes."""

import html
import math
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pipelines.charts import CHART_POINTS, Axis, keep_charts, reduced, series_of
from pipelines.models import MetricPoint, Run, Status
from tests.factories import logged_in_client
from tests.pipelines.builders import report, run_of, snapshotting_pipeline


@pytest.fixture
def pipeline(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"})
    Run.objects.filter(pipeline=pipeline).delete()
    return pipeline


def metrics_page(client, run: Run, **headers):
    return client.get(reverse("pipelines:run-metrics", args=[run.project_id, run.id]), **headers)


def test_the_tab_tables_and_charts_each_metric(pipeline, viewer):
    run = run_of(pipeline, Status.SUCCESSFUL)
    report(run, "loss", [0.9, None, 0.5, 0.3125])
    report(run, "accuracy", [0.5, 0.75])
    page = metrics_page(logged_in_client(viewer), run).content.decode()
    assert '<td>loss</td><td class="num">0.3125</td><td class="num">0.3125</td>' in page
    assert '<td class="num">0.9</td><td class="num">4</td>' in page
    assert page.count("<svg") == 2
    assert "<title>step 2: 0.5</title>" in page
    assert 'text-anchor="end" dominant-baseline="middle">0.4</text>' in page  # a value axis
    assert "hx-get" not in page  # the run has ended: nothing asks again
    assert "<script>" not in page and "style=" not in page


def test_while_the_run_goes_the_charts_ask_for_themselves_again(pipeline, owner):
    run = run_of(pipeline, Status.RUNNING, heartbeat_at=timezone.now())
    client = logged_in_client(owner)
    assert "No metrics yet" in metrics_page(client, run).content.decode()
    report(run, "loss", [1.0, 0.5])
    fragment = metrics_page(client, run, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith("<section")
    assert 'hx-trigger="every 2s"' in fragment
    assert "<title>step 1: 0.5</title>" in fragment
    seen = html.unescape(re.search(r'hx-get="([^"]+)"', fragment).group(1))
    assert client.get(seen, headers={"HX-Request": "true"}).status_code == 204
    report(run, "loss", {2: 0.25})
    again = client.get(seen, headers={"HX-Request": "true"}).content.decode()
    assert "<title>step 2: 0.25</title>" in again


def test_the_last_ask_after_the_run_ended_draws_the_charts_and_stops(pipeline, owner):
    run = run_of(pipeline, Status.RUNNING, heartbeat_at=timezone.now())
    report(run, "loss", [1.0])
    client = logged_in_client(owner)
    fragment = metrics_page(client, run, headers={"HX-Request": "true"}).content.decode()
    seen = html.unescape(re.search(r'hx-get="([^"]+)"', fragment).group(1))
    Run.objects.filter(id=run.id).update(status=Status.SUCCESSFUL, ended_at=timezone.now())
    final = client.get(seen, headers={"HX-Request": "true"})
    assert final.status_code == 200
    assert "hx-get" not in final.content.decode()


def test_a_run_without_metrics_says_how_to_report_them(pipeline, owner):
    run = run_of(pipeline, Status.SUCCESSFUL)
    page = metrics_page(logged_in_client(owner), run).content.decode()
    assert "This run reported no metrics" in page and "metrics_file" in page


def test_a_long_series_is_drawn_reduced_to_a_thousand_points(pipeline, owner):
    run = run_of(pipeline, Status.SUCCESSFUL)
    report(run, "loss", [1 / (step + 1) for step in range(20_000)])
    page = metrics_page(logged_in_client(owner), run).content.decode()
    assert page.count("<circle") == CHART_POINTS
    assert "<title>step 19999: 5e-05</title>" in page
    assert '<td class="num">20000</td>' in page


def test_the_charts_can_run_over_the_time_since_the_run_started(pipeline, owner):
    run = run_of(pipeline, Status.RUNNING, heartbeat_at=timezone.now())
    report(run, "loss", [1.0, 0.5, 0.25])
    for step in range(3):
        stored = run.started_at + timedelta(seconds=10 + 60 * step)
        MetricPoint.objects.filter(run=run, step=step).update(time=stored)
    client = logged_in_client(owner)
    page = client.get(metrics_url(run, x="time")).content.decode()
    assert "loss <span" in page and "by time" in page
    assert ">0:00</text>" in page and ">2:00</text>" in page
    assert "<title>step 1 at 1:10: 0.5</title>" in page
    assert '<strong aria-current="true">Time</strong>' in page
    assert f'href="{metrics_url(run, x="step")}"' in html.unescape(page)
    refresh = html.unescape(re.search(r'hx-get="([^"]+metrics[^"]+)"', page).group(1))
    assert "x=time" in refresh
    assert client.get(refresh, headers={"HX-Request": "true"}).status_code == 204


def test_an_unknown_axis_is_refused(pipeline, owner):
    run = run_of(pipeline, Status.SUCCESSFUL)
    assert logged_in_client(owner).get(metrics_url(run, x="epoch")).status_code == 404


def test_an_ended_runs_charts_read_its_points_once(pipeline, owner):
    run = run_of(pipeline, Status.SUCCESSFUL)
    report(run, "loss", [1.0, 0.5])
    report(run, "accuracy", [0.5, 0.75])
    client = logged_in_client(owner)
    fragment = {"headers": {"HX-Request": "true"}}
    by_step = client.get(metrics_url(run), **fragment).content
    assert all(chart["count"] == 2 for chart in run.metrics.values_list("chart", flat=True))
    for axis, drawn in [("time", None), ("step", by_step)]:
        with CaptureQueriesContext(connection) as again:
            page = client.get(metrics_url(run, x=axis), **fragment).content
        assert drawn in (None, page)
        read = [query["sql"] for query in again.captured_queries if "metricpoint" in query["sql"]]
        assert read == []


def test_a_kept_chart_is_drawn_again_when_the_points_changed(pipeline, owner):
    run = run_of(pipeline, Status.SUCCESSFUL)
    report(run, "loss", [1.0, 0.5])
    client = logged_in_client(owner)
    client.get(metrics_url(run))
    report(run, "loss", {2: 0.25})  # points stored late, say by a slow database
    assert "<title>step 2: 0.25</title>" in client.get(metrics_url(run)).content.decode()


def wavy(steps: range) -> dict[int, float | None]:
    """A noisy curve with a spike every 997 steps and a gap every 1,000."""
    return {
        step: None if step % 1000 == 999 else math.sin(step / 300) + (step % 997 == 5) * 3
        for step in steps
    }


def rows_read(queries: list[dict]) -> int:
    """The rows of metric points the captured queries read, by running them again."""
    with connection.cursor() as cursor:
        return sum(
            len(cursor.execute(query["sql"]).fetchall())
            for query in queries
            if "metricpoint" in query["sql"]
        )


def test_a_running_runs_charts_read_only_the_points_stored_after_the_kept_reduction(
    pipeline, owner
):
    run = run_of(pipeline, Status.RUNNING, heartbeat_at=timezone.now())
    report(run, "loss", wavy(range(18_000)))
    keep_charts(run)  # as the runner keeps it while the run goes
    report(run, "loss", wavy(range(18_000, 20_000)))
    client = logged_in_client(owner)
    for axis in ["step", "time"]:
        with CaptureQueriesContext(connection) as views:
            page = client.get(metrics_url(run, x=axis)).content.decode()
        # The 2,000 points stored after it, and the times of those shown.
        assert 2_000 <= rows_read(views.captured_queries) < 2_200
        assert page.count("<circle") < CHART_POINTS * 1.2
        assert "<title>step 19998" in page  # the latest point (19,999 is a gap)
    drawn = series_of(run, run.metrics.get(), run.metrics.get().chart, Axis.STEP)
    full = reduced(run.metric_points.series("loss"))
    assert drawn.ends == full.ends == (0, 19_999) and drawn.count == full.count
    spikes = {step for step, value in wavy(range(20_000)).items() if value and value > 1.5}
    assert spikes <= {step for step, _ in drawn.shown} and spikes <= {s for s, _ in full.shown}
    assert len(drawn.breaks) == len(full.breaks) == 20


def metrics_url(run: Run, **query) -> str:
    url = reverse("pipelines:run-metrics", args=[run.project_id, run.id])
    return f"{url}?{urlencode(query)}" if query else url
