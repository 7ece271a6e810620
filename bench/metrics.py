"""8. Metrics: what reporting points costs a run, and the Metrics tab with long series."""

import json
import time

from bench.environments import run_seconds
from bench.measure import Row, Target, paired, timed
from bench.runs import api_client, finished, flowers, upload
from bench.service import Bench

WORK_SECONDS, QUICK_WORK_SECONDS = 30, 3
POINTS, QUICK_POINTS = 100_000, 10_000
PAGE_POINTS, QUIET_POINTS = 100_000, 100
RUN_TARGET = Target("ratio", 1.05, "ratio < 1.05")
PAGE_TARGET = Target("median", 0.3, "< 300 ms")
# A fixed amount of work, in chunks; after each chunk the package reports its share of lines
# (two points each), so a run reporting none does exactly the same work.
REPORTING = """\
import json
import os


def work(iterations):
    total = 0
    for number in range(iterations):
        total += number * number % 7
    return total


class Main:
    def train(self, training_directory):
        chunks, iterations = 1000, int(os.environ["iterations"]) // 1000
        lines = int(os.environ["lines"]) // chunks
        with open(os.environ["metrics_file"], "a") as metrics:
            for chunk in range(chunks):
                work(iterations)
                for line in range(lines):
                    step = chunk * lines + line
                    metrics.write(json.dumps({"loss": 1 / (step + 1), "accuracy": step % 97}))
                    metrics.write("\\n")
                metrics.flush()

    def save(self):
        pass
"""


def metrics(bench: Bench) -> list[Row]:
    return [reporting_run(bench), *metrics_tab(bench)]


def iterations_for(seconds: float) -> int:
    """The iterations of the package's work() that take about `seconds` here."""
    sample = 2_000_000
    started = time.perf_counter()
    total = 0
    for number in range(sample):
        total += number * number % 7
    return int(sample * seconds / (time.perf_counter() - started))


def reporting_run(bench: Bench) -> Row:
    from tests.factories import package_zip, uploaded

    project = bench.project("Metrics")
    data = flowers(bench, project)
    version = upload(bench, project, "reporting", uploaded(package_zip(**{"train.py": REPORTING})))
    api = api_client(bench)
    seconds, points = (QUICK_WORK_SECONDS, QUICK_POINTS) if bench.quick else (WORK_SECONDS, POINTS)
    iterations = iterations_for(seconds)

    def run(lines: int):
        run_id = started(api, project, version, data, iterations=iterations, lines=lines)
        return finished([run_id])[0]

    reporting, quiet = [], []
    with bench.workers("metrics"):
        run(0)  # builds the environment once
        paired(
            bench.repeats(3),
            lambda: None,
            lambda: reporting.append(run_seconds(run(points // 2))),
            lambda: quiet.append(run_seconds(run(0))),
        )
    return Row(
        "9 metrics",
        f"run of about {seconds} s of work reporting {points:,} points, on its worker",
        "s",
        reporting,
        "the same run reporting none",
        quiet,
        RUN_TARGET,
    )


def started(api, project, version, data, **parameters) -> int:
    body = {
        "name": f"bench-{time.monotonic_ns()}",
        "type": "training",
        "package": version.package_id,
        "version": version.label,
        "input_dataset": data.id,
        "input_path": "train",
        "parameters": {name: str(value) for name, value in parameters.items()},
        "timeout": 3600,
    }
    url = f"/api/v1/projects/{project.id}/pipelines"
    response = api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["runs"][0]["id"]


def metrics_tab(bench: Bench) -> list[Row]:
    """The tab of an ended run, whose metrics the worker reduced as the run ended, and of a
    running run, whose reductions the worker keeps fresh: a view reads the points after them."""
    from pipelines.models import Status
    from tests.factories import logged_in_client

    project = bench.project("Metrics")
    client = logged_in_client(bench.owner)

    def tab(run) -> None:
        response = client.get(f"/projects/{project.id}/pipelines/runs/{run.id}/metrics")
        if response.status_code != 200:
            raise RuntimeError(f"The Metrics tab of run {run.id} answered {response.status_code}.")

    rows = []
    for status, measure in [(Status.SUCCESSFUL, ""), (Status.RUNNING, ", while the run goes")]:
        long_run = run_with(project, PAGE_POINTS, status)
        short_run = run_with(project, QUIET_POINTS, status)
        tab(long_run)
        long_times, short_times = [], []
        for _ in range(bench.repeats(10)):
            long_times.append(timed(lambda run=long_run: tab(run)))
            short_times.append(timed(lambda run=short_run: tab(run)))
        rows.append(
            Row(
                "9 metrics",
                f"Metrics tab, 2 metrics of {PAGE_POINTS:,} points{measure}",
                "s",
                long_times,
                f"2 metrics of {QUIET_POINTS} points",
                short_times,
                PAGE_TARGET,
            )
        )
    return rows


def run_with(project, points: int, status: str):
    """A run of the project's first pipeline in `status`, with `points` points of loss and
    of accuracy, and their summaries, as the runner stores them: once ended, with each metric
    reduced for its charts; while it goes, reduced as of the runner's last refresh, with the
    most points a refresh leaves after it (REFRESH_POINTS - 1)."""
    from pipelines.charts import keep_charts
    from pipelines.runner.charts import REFRESH_POINTS
    from tests.pipelines.builders import report, run_of

    run = run_of(project.pipelines.first(), status)
    kept = points if run.is_finished else max(points - REFRESH_POINTS + 1, 0)
    for steps in [range(kept), range(kept, points)]:
        if steps:
            for name in ["loss", "accuracy"]:
                report(run, name, {step: 1 / (step + 1) for step in steps})
        if steps.stop == kept > 0:
            keep_charts(run)
    return run
