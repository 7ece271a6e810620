"""A person reads what a run's code logged with MLflow's calls, apart from its parameters."""

from playwright.sync_api import Page, expect

from pipelines.models import Status
from tests.e2e.pages import log_in
from tests.factories import make_project, make_user
from tests.pipelines.builders import dataset_with, example_version, run_of, training_pipeline


def test_the_run_page_shows_logged_parameters_and_tags_below_the_parameters(
    live_server, page: Page, db
):
    user = make_user("nadia")
    project = make_project(user, "Reviews")
    data = dataset_with(project, "flowers", {"train/a.csv": b"x,y\n1,2\n"})
    pipeline = training_pipeline(project, user, example_version(project, user), data)
    run = run_of(pipeline, Status.SUCCESSFUL)
    run.record_logged({"learning_rate": "0.5", "epochs": "30"}, {"model": "softmax"})

    log_in(page, live_server.url, "nadia")
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Logged parameters")).to_be_visible()
    logged = page.locator("table.logged-parameters")
    expect(logged.get_by_role("row")).to_have_count(3)
    expect(logged.get_by_role("row", name="learning_rate 0.5")).to_be_visible()
    expect(logged.get_by_role("row", name="model tag softmax")).to_be_visible()
    parameters = page.locator("table.parameters").first
    expect(parameters).not_to_contain_text("learning_rate")
