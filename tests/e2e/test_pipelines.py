from playwright.sync_api import Page, expect

from pipelines.models import Pipeline, Status
from tests.e2e.pages import log_in, settled
from tests.factories import make_project, make_user
from tests.pipelines.builders import (
    example_version,
    flowers_dataset,
    package_version_with,
    training_pipeline,
)

SLOW = """\
import time

class Main:
    def train(self, training_directory):
        print("training slowly", flush=True)
        time.sleep(600)

    def save(self):
        pass
"""


def test_user_creates_a_pipeline_watches_it_succeed_then_kills_a_slow_run(
    live_server, page: Page, workers, tmp_path
):
    user = make_user("ines")
    project = make_project(user, "Botany")
    example_version(project, user)
    data = flowers_dataset(project)
    workers.start(HEARTBEAT_SECONDS=1, KILL_GRACE_SECONDS=2)
    log_in(page, live_server.url, "ines")

    page.goto(f"{live_server.url}/projects/{project.id}/pipelines/")
    page.get_by_role("link", name="Create pipeline").click()
    page.get_by_label("Name", exact=True).fill("petals")
    page.get_by_label("Package", exact=True).select_option(label="flowers-stdlib")
    expect(page.get_by_label("Minor version")).to_have_value("1.0")
    settled(page)
    page.get_by_label("Input dataset").select_option(label="flowers")
    expect(page.get_by_role("button", name="train/")).to_be_visible()
    settled(page)
    page.get_by_role("button", name="train/").click()
    expect(page.get_by_label("Folder of flowers")).to_have_value("train")
    settled(page)
    page.get_by_role("button", name="Add parameter").click()
    page.get_by_label("Name of parameter 3").fill("epochs")
    page.get_by_label("Value of parameter 3").fill("2")
    page.get_by_role("button", name="Create pipeline").click()
    expect(page.get_by_role("heading", name="petals")).to_be_visible()
    pipeline = Pipeline.objects.get(name="petals")
    assert pipeline.input_path == "train"
    assert pipeline.all_parameters["epochs"] == "2"

    page.get_by_role("link", name="Pipelines", exact=True).first.click()
    page.evaluate("window.stayedOnPage = true")
    row = page.locator(f'tr[data-pipeline="{pipeline.id}"]')
    expect(row.get_by_text("Successful")).to_be_visible(timeout=90_000)
    assert page.evaluate("window.stayedOnPage") is True  # refreshed in place, not reloaded

    slow = package_version_with(project, user, SLOW, name="slow")
    slow_pipeline = training_pipeline(project, user, slow, data, name="slow-one")
    run = slow_pipeline.runs.get()
    slow_row = page.locator(f'tr[data-pipeline="{slow_pipeline.id}"]')
    expect(slow_row.get_by_text("Running")).to_be_visible(timeout=60_000)
    slow_row.get_by_text("Actions").click()
    slow_row.get_by_role("link", name=f"Kill run #{run.id} of slow-one").click()
    page.get_by_role("button", name="Kill run").click()
    expect(
        page.locator(f'tr[data-pipeline="{slow_pipeline.id}"]').get_by_text("Killed")
    ).to_be_visible(timeout=30_000)
    run.refresh_from_db()
    assert run.status == Status.KILLED
