"""A person is asked before a kill, sees the run stopping, and cannot reuse a pipeline's name."""

from playwright.sync_api import Page, expect

from pipelines.models import Pipeline, Run, Status
from tests.e2e.pages import log_in, settled
from tests.factories import make_project, make_user
from tests.pipelines.builders import dataset_with, example_version, run_of, training_pipeline


def test_kill_asks_first_and_the_badge_says_stopping_until_the_run_ends(live_server, page: Page):
    user = make_user("ines")
    project = make_project(user, "Botany")
    data = dataset_with(project, "flowers", {"train/a.csv": b"x\n1\n"})
    pipeline = training_pipeline(project, user, example_version(project, user), data)
    Run.objects.filter(pipeline=pipeline).delete()
    run = run_of(pipeline, Status.RUNNING)
    log_in(page, live_server.url, "ines")

    page.goto(f"{live_server.url}/projects/{project.id}/pipelines/")
    row = page.locator(f'tr[data-pipeline="{pipeline.id}"]')
    row.get_by_text("Actions").click()
    row.get_by_role("link", name=f"Kill run #{run.id} of nightly").click()
    expect(page.get_by_role("heading", name=f"Kill run #{run.id} of nightly?")).to_be_visible()
    run.refresh_from_db()
    assert not run.kill_requested  # asking changed nothing

    page.get_by_role("button", name="Kill run").click()
    expect(page.get_by_text(f"Run #{run.id} is being stopped.")).to_be_visible()
    expect(row.locator(".badge")).to_have_text("Stopping")
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.locator("#run-header .badge[data-status]")).to_have_text("Stopping")
    expect(page.get_by_role("link", name="Kill…")).to_have_count(0)

    run.refresh_from_db()
    assert run.kill() and run.status == Status.KILLED
    expect(page.locator("#run-header .badge[data-status]")).to_have_text("Killed", timeout=10_000)


def test_a_second_pipeline_of_the_same_name_is_refused_under_its_field(live_server, page: Page):
    user = make_user("ines")
    project = make_project(user, "Botany")
    data = dataset_with(project, "flowers", {"train/a.csv": b"x\n1\n"})
    training_pipeline(project, user, example_version(project, user), data)
    log_in(page, live_server.url, "ines")

    page.goto(f"{live_server.url}/projects/{project.id}/pipelines/new")
    page.get_by_label("Name", exact=True).fill("nightly")
    page.get_by_label("Package", exact=True).select_option(label="flowers-stdlib")
    expect(page.get_by_label("Minor version")).to_have_value("1.0")
    settled(page)
    page.get_by_label("Input dataset").select_option(label="flowers")
    expect(page.get_by_label("Folder of flowers")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Create pipeline").click()

    name_field = page.locator(".field", has=page.get_by_label("Name", exact=True))
    expect(name_field.locator(".error")).to_have_text(
        "The project already has a pipeline named nightly."
    )
    assert Pipeline.objects.filter(project=project).count() == 1


def test_run_again_with_changes_opens_the_form_filled_from_the_run(live_server, page: Page):
    user = make_user("ines")
    project = make_project(user, "Botany")
    data = dataset_with(project, "flowers", {"train/a.csv": b"x\n1\n"})
    parameters = {"artifacts_directory": "artifacts", "save_training_data": "true", "epochs": "3"}
    pipeline = training_pipeline(
        project, user, example_version(project, user), data, input_path="train",
        parameters=parameters,
    )  # fmt: skip
    run = run_of(pipeline, Status.SUCCESSFUL)
    log_in(page, live_server.url, "ines")

    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    page.get_by_role("link", name="Run again with changes").click()
    expect(page.get_by_role("heading", name=f"Run #{run.id} again with changes")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("nightly")
    expect(page.get_by_label("Package", exact=True)).to_have_value(
        str(pipeline.package_version.package_id)
    )
    expect(page.get_by_label("Minor version")).to_have_value("1.0")
    settled(page)
    expect(page.get_by_label("Folder of flowers")).to_have_value("train")
    # PostgreSQL's JSON keeps no key order: find the row of epochs by its name.
    names = [page.get_by_label(f"Name of parameter {n}").input_value() for n in (1, 2, 3)]
    epochs = page.get_by_label(f"Value of parameter {names.index('epochs') + 1}")
    expect(epochs).to_have_value("3")

    epochs.fill("5")
    page.get_by_role("button", name="Start one run").click()
    expect(page.get_by_text("stays as it was")).to_be_visible()
    again = pipeline.runs.order_by("-id").first()
    assert again.parameters["epochs"] == "5"
    pipeline.refresh_from_db()
    assert pipeline.parameters["epochs"] == "3"
