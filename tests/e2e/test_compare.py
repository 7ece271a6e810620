"""A person ticks the latest runs of three pipelines on the pipelines list (the ticks outlive
the list's refresh) and compares them: one chart per shared metric with a line and a legend
entry per run; then drops one run."""

from playwright.sync_api import Page, expect

from pipelines.models import Run, Status
from tests.e2e.pages import log_in
from tests.factories import TRAIN_PY, make_project, make_user
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    package_version_with,
    report,
    run_of,
    training_pipeline,
)


def three_reporting_runs(user) -> tuple[int, list[Run]]:
    """Three pipelines whose last runs reported loss and accuracy; one used another package."""
    project = make_project(user, "Botany")
    versions = [example_version(project, user), package_version_with(project, user, TRAIN_PY)]
    data = dataset_with(project, "flowers", {"train/a.csv": b"x\n1\n"})
    runs = []
    for number, version in enumerate([versions[0], versions[0], versions[1]]):
        pipeline = training_pipeline(project, user, version, data, name=f"petals-{number}")
        Run.objects.filter(pipeline=pipeline).delete()
        run = run_of(pipeline, Status.SUCCESSFUL)
        report(run, "loss", [1.0 / (step + number + 1) for step in range(30)])
        report(run, "accuracy", [0.5 + step / (100 + number * 10) for step in range(30)])
        runs.append(run)
    return project.id, runs


def test_three_runs_picked_from_the_pipelines_list_overlay_their_curves(live_server, page: Page):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    user = make_user("ines")
    project_id, runs = three_reporting_runs(user)
    log_in(page, live_server.url, "ines")

    page.goto(f"{live_server.url}/projects/{project_id}/pipelines/")
    boxes = [
        page.get_by_label(f"Compare run #{run.id} of petals-{number}")
        for number, run in enumerate(runs)
    ]
    for box in boxes:
        box.check()
    with page.expect_response(lambda answer: "page=" in answer.url, timeout=20_000):
        pass  # the list refreshes itself in place: the ticks stay
    for box in boxes:
        expect(box).to_be_checked()
    page.get_by_role("button", name="Compare chosen runs").click()

    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible()
    charts = page.locator("#curves figure.chart")
    expect(charts).to_have_count(2)
    for chart in charts.all():
        expect(chart.locator("g.chart-series")).to_have_count(3)
        expect(chart.locator(".legend li")).to_have_count(3)
        assert chart.locator(".chart-axis text").count() > 4  # values on both axes
    legend = {text.strip() for text in charts.first.locator(".legend li").all_inner_texts()}
    assert legend == {
        f"Run #{runs[0].id} · flowers-stdlib 1.0",
        f"Run #{runs[1].id} · flowers-stdlib 1.0",
        f"Run #{runs[2].id} · custom 1.0",
    }
    lines = charts.first.locator("path.chart-line")
    colours = {lines.nth(n).evaluate("e => getComputedStyle(e).stroke") for n in range(3)}
    assert len(colours) == 3
    expect(page.locator("table.compare").first.locator("thead th")).to_have_count(4)

    page.get_by_label(f"#{runs[1].id} · petals-1").uncheck()
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(charts.first.locator("g.chart-series")).to_have_count(2)
    assert refused == []
