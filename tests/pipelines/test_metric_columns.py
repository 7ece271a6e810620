"""A pipeline's page shows chosen metrics' last values as columns of its runs: by default the
metrics most runs reported, otherwise those the person ticked, kept in the page's address."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pipelines.models import Run, Status
from tests.factories import logged_in_client
from tests.pipelines.builders import report, run_of, snapshotting_pipeline


@pytest.fixture
def pipeline(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"})
    Run.objects.filter(pipeline=pipeline).delete()
    return pipeline


@pytest.fixture
def runs(pipeline):
    first, second = run_of(pipeline, Status.SUCCESSFUL), run_of(pipeline, Status.SUCCESSFUL)
    for run, loss in [(first, [0.9, 0.4]), (second, [0.8, 0.25])]:
        report(run, "loss", loss)
        report(run, "accuracy", [0.5, 0.875])
    report(second, "f1", [0.7])
    report(second, "recall", [0.6])
    return first, second


def header(page: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    return [html.unescape(cell) for cell in re.findall(r"<th[^>]*>([^<]*)</th>", head)]


def test_by_default_the_metrics_most_runs_reported_are_columns(pipeline, runs, viewer):
    page = logged_in_client(viewer).get(pipeline.get_absolute_url()).content.decode()
    assert header(page)[5:9] == ["Score", "accuracy", "loss", "f1"]
    assert '<td data-label="loss" class="num">0.25</td>' in page
    assert '<td data-label="f1" class="num">0.7</td>' in page
    assert '<td data-label="f1" class="num">—</td>' in page  # the first run had no f1
    for name in ["accuracy", "f1", "loss", "recall"]:
        assert f'name="metric" value="{name}"' in page


def test_the_chosen_metrics_stay_in_the_address_of_the_refresh_and_the_pages(pipeline, runs, owner):
    url = f"{pipeline.get_absolute_url()}?columns=1&metric=recall&metric=nothing-reported"
    page = logged_in_client(owner).get(url).content.decode()
    assert header(page)[5:7] == ["Score", "recall"] and "accuracy</th>" not in page
    assert 'value="recall" checked' in page and 'value="loss">' in page
    refresh = html.unescape(re.search(r'hx-get="([^"]+)"', page).group(1))
    assert refresh.endswith("?columns=1&metric=recall&page=1")


def test_ticking_none_shows_no_metric_column(pipeline, runs, owner):
    page = logged_in_client(owner).get(f"{pipeline.get_absolute_url()}?columns=1").content
    assert header(page.decode())[5:7] == ["Score", "New version"]


def test_the_columns_cost_the_same_queries_for_many_runs(pipeline, runs, owner):
    client = logged_in_client(owner)
    client.get(pipeline.get_absolute_url())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(pipeline.get_absolute_url()).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(10):
        report(run_of(pipeline, Status.SUCCESSFUL), "loss", [0.5])
    assert queries() == few
