"""A person follows a run on its Pipeline Details page: live logs, outputs and lineage."""

import pytest
from playwright.sync_api import Page, expect

from pipelines.models import DEFAULT_PARAMETERS, Status
from tests.datasets.test_previews import PNG
from tests.e2e.pages import log_in
from tests.factories import make_project, make_user
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    package_version_with,
    publish,
    run_of,
    store_artifacts,
    training_pipeline,
    write_log,
)

SLOW_TRAIN = """\
import sys
import time


class Main:
    def __init__(self):
        pass

    def train(self, training_directory):
        for epoch in range(1, 9):
            print(f"epoch {epoch}", flush=True)
            if epoch == 4:
                print("loss is noisy", file=sys.stderr, flush=True)
            time.sleep(0.6)

    def evaluate(self, evaluation_directory):
        return 0.9

    def save(self):
        pass
"""
REPORTING_TRAIN = """\
import json
import os
import time


class Main:
    def train(self, training_directory):
        for epoch in range(1, 11):
            with open(os.environ["metrics_file"], "a") as metrics:
                metrics.write(json.dumps({"loss": 1 / epoch, "step": epoch}) + "\\n")
            time.sleep(0.8)

    def save(self):
        pass
"""
FAST_WORKER = {"HEARTBEAT_SECONDS": 1, "KILL_GRACE_SECONDS": 2}


@pytest.fixture
def nadia(db):
    return make_user("nadia")


@pytest.mark.integration
def test_a_running_runs_log_grows_live_until_it_turns_successful(
    live_server,
    page: Page,
    nadia,
    workers,  # noqa: F811
):
    project = make_project(nadia, "Reviews")
    version = package_version_with(project, nadia, SLOW_TRAIN, name="slow")
    data = dataset_with(project, "reviews", {"train/a.csv": b"x\n1\n"})
    run = training_pipeline(project, nadia, version, data, input_path="train").runs.get()
    log_in(page, live_server.url, "nadia")
    page.goto(f"{live_server.url}/projects/{project.id}/pipelines/runs/{run.id}/logs")
    expect(page.get_by_text("No output yet")).to_be_visible()
    page.evaluate("window.sameDocument = true")

    workers.start(**FAST_WORKER)
    log = page.locator("#log")
    expect(log.locator(".log-line", has_text="epoch 1")).to_be_visible(timeout=120_000)
    expect(log.locator(".log-stderr", has_text="loss is noisy")).to_be_visible(timeout=30_000)
    expect(log.locator(".log-line", has_text="epoch 8")).to_be_visible(timeout=30_000)
    badge = page.locator("#run-header .badge[data-status]")
    expect(badge).to_have_text("Successful", timeout=60_000)
    expect(log.locator(".log-line", has_text="Run successful.")).to_be_visible(timeout=15_000)
    assert page.evaluate("window.sameDocument") is True
    assert log.locator(".log-line", has_text="epoch 3").count() == 1


@pytest.mark.integration
def test_a_running_runs_chart_grows_live_without_breaking_the_policy(
    live_server,
    page: Page,
    nadia,
    workers,  # noqa: F811
):
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    project = make_project(nadia, "Reviews")
    version = package_version_with(project, nadia, REPORTING_TRAIN, name="reporting")
    data = dataset_with(project, "reviews", {"train/a.csv": b"x\n1\n"})
    run = training_pipeline(project, nadia, version, data, input_path="train").runs.get()
    log_in(page, live_server.url, "nadia")
    page.goto(f"{live_server.url}/projects/{project.id}/pipelines/runs/{run.id}/metrics")
    expect(page.get_by_text("No metrics yet")).to_be_visible()

    workers.start(**FAST_WORKER)
    dots = page.locator("#metrics figure.chart circle")
    expect(dots.first).to_be_attached(timeout=120_000)
    early = dots.count()
    assert early < 10
    badge = page.locator("#run-header .badge[data-status]")
    expect(badge).to_have_text("Successful", timeout=60_000)
    expect(dots).to_have_count(10, timeout=15_000)
    expect(page.locator("#metrics figcaption")).to_have_text("loss by step")
    expect(page.locator("#metrics td").first).to_have_text("loss")
    assert page.locator("#metrics .chart-axis text").count() > 4  # values on both axes
    page.locator("#metrics .axis-choice").get_by_role("link", name="Time").click()
    expect(page.locator("#metrics figcaption")).to_have_text("loss by time")
    expect(page.locator("#metrics .chart-axis text").last).to_contain_text(":")  # 0:05
    expect(page.locator("#metrics figure.chart circle")).to_have_count(10)
    assert refused == []


def test_a_finished_runs_lineage_leads_to_its_version_and_back(live_server, page: Page, nadia):
    project = make_project(nadia, "Reviews")
    version = example_version(project, nadia)
    data = dataset_with(project, "flowers", {"train/a.csv": b"x,y\n1,2\n"})
    parameters = {**DEFAULT_PARAMETERS, "save_training_data": "true"}
    pipeline = training_pipeline(
        project, nadia, version, data, input_path="train", parameters=parameters
    )
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(run, {"plots/loss.png": PNG, "predictions.csv": b"id,label\n1,rose\n"})
    write_log(run, [("stdout", "trained")])
    run = publish(run, score=0.9)

    log_in(page, live_server.url, "nadia")
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.locator("#run-header .badge[data-status]")).to_have_text("Successful")
    page.get_by_role("link", name="predictions.csv").click()
    expect(page.locator("#artifact-preview").get_by_role("cell", name="rose")).to_be_visible()
    assert page.url.endswith(run.get_absolute_url())

    lineage = page.locator("#lineage")
    lineage.get_by_role("link", name="flowers-stdlib 1.1").click()
    expect(page.get_by_role("heading", name="flowers-stdlib 1.1")).to_be_visible()
    expect(page.locator("#lineage .current")).to_contain_text("1.1")
    page.locator("#lineage").get_by_role("link", name=f"run #{run.id}").click()
    expect(page.get_by_role("heading", name=f"nightly · run #{run.id}")).to_be_visible()
