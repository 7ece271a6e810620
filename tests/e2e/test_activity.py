"""The Activity page names the person behind what a person did in the browser."""

from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in
from tests.factories import make_project, make_user
from tests.pipelines.builders import dataset_with, example_version, training_pipeline


def test_the_activity_page_names_who_uploaded_and_who_killed(live_server, page: Page, tmp_path):
    owner, editor = make_user("olivia"), make_user("eddie")
    project = make_project(owner, "Botany", editor=editor)
    data = dataset_with(project, "flowers", {"train/a.csv": b"x\n1\n"})
    pipeline = training_pipeline(project, owner, example_version(project, owner), data)
    (tmp_path / "b.csv").write_bytes(b"x\n2\n")
    log_in(page, live_server.url, "eddie")

    page.goto(f"{live_server.url}/projects/{project.id}/datasets/{data.id}/")
    page.get_by_role("link", name="Upload", exact=True).first.click()
    page.get_by_label("Files").set_input_files(tmp_path / "b.csv")
    page.get_by_role("button", name="Upload files").click()
    expect(page.get_by_role("link", name="b.csv", exact=True)).to_be_visible()

    page.goto(f"{live_server.url}/projects/{project.id}/pipelines/")
    row = page.locator(f'tr[data-pipeline="{pipeline.id}"]')
    row.get_by_text("Actions").click()
    row.get_by_role("button", name=f"Run {pipeline.name} now").click()
    expect(page.get_by_text("is queued")).to_be_visible()
    run = pipeline.runs.latest("id")
    row.get_by_text("Actions").click()
    row.get_by_role("link", name=f"Kill run #{run.id} of {pipeline.name}").click()
    page.get_by_role("button", name="Kill run").click()

    page.goto(f"{live_server.url}/projects/{project.id}/activity/")
    expect(page.locator("tr", has_text="Dataset changed")).to_contain_text("eddie")
    expect(page.locator("tr", has_text="Run killed")).to_contain_text("eddie")
