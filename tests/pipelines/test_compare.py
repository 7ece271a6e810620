"""The compare page: any number of runs side by side, up to a cap, with each shared metric's
curves overlaid, their final values, parameters and artifacts, and the rows that differ."""

import pytest
from django.urls import reverse

from pipelines.compare import MOST_COMPARED
from pipelines.models import Run, Status
from tests.factories import TRAIN_PY, make_project
from tests.i18n.test_japanese_pages import JAPANESE, english_words, unmarked
from tests.pipelines.builders import (
    package_version_with,
    publish,
    report,
    run_of,
    snapshotting_pipeline,
    store_artifacts,
    training_pipeline,
)


@pytest.fixture
def pipeline(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"}, epochs="3")
    Run.objects.filter(pipeline=pipeline).delete()
    return pipeline


@pytest.fixture
def three(pipeline) -> list[Run]:
    """Three finished runs: all report loss, two accuracy, one alone the learning rate."""
    runs = [
        run_of(pipeline, Status.SUCCESSFUL, parameters={**pipeline.parameters, "epochs": epochs})
        for epochs in ["3", "3", "5"]
    ]
    for number, run in enumerate(runs):
        report(run, "loss", [1.0, 0.5 - number / 10, 0.25 - number / 10])
    report(runs[0], "accuracy", [0.5, 0.75])
    report(runs[2], "accuracy", [0.5, 0.625, 0.875])
    report(runs[1], "learning_rate", [0.1])
    return runs


def compare(client, project_id: int, runs: list, **headers):
    return client.get(reverse("pipelines:compare", args=[project_id]), {"runs": runs}, **headers)


def test_three_runs_overlay_each_shared_metric_with_a_line_and_legend_entry_per_run(
    viewer_client, three
):
    response = compare(viewer_client, three[0].project_id, [run.id for run in three])
    comparison = response.context["comparison"]
    assert [column.title for column in comparison.columns] == [f"Run #{r.id}" for r in three]
    charts = {chart.name: chart for chart in comparison.overlays}
    assert sorted(charts) == ["accuracy", "loss"]  # the learning rate is one run's alone
    assert [line.index for line in charts["loss"].lines] == [0, 1, 2]
    assert [line.index for line in charts["accuracy"].lines] == [0, 2]
    page = response.text
    assert page.count('class="chart-series series-2"') == 2
    assert page.count("<svg") == 2
    assert f"<title>Run #{three[2].id}, step 2: 0.05</title>" in page
    assert 'dominant-baseline="middle">0.5</text>' in page  # a value axis
    assert "<script>" not in page and "style=" not in page


def test_final_values_parameters_and_differences_are_tabled_per_run(viewer_client, three):
    response = compare(viewer_client, three[0].project_id, [run.id for run in three])
    sections = {section.title: section for section in response.context["comparison"].sections}
    finals = {row.label: row for row in sections["Final values"].rows}
    assert finals["loss"].values == ("0.25", "0.15", "0.05")
    assert finals["accuracy"].values == ("0.75", "—", "0.875")
    assert finals["learning_rate"].values == ("—", "0.1", "—")
    epochs = next(row for row in sections["Parameters"].rows if row.label == "epochs")
    assert epochs.values == ("3", "3", "5") and epochs.differs
    status = next(row for row in sections["Run"].rows if row.label == "Status")
    assert not status.differs
    assert response.context["comparison"].score_difference is None  # only for a pair
    assert response.text.count('<tr class="differs">') == sections["Final values"].differences + 1


def test_comparing_two_runs_marks_what_differs_and_the_score_change(viewer_client, pipeline):
    first = publish(run_of(pipeline, Status.SUCCESSFUL), score=0.5)
    store_artifacts(first, {"notes.txt": b"trained", "metrics.json": b'{"a": 1}'})
    second = run_of(pipeline, Status.SUCCESSFUL, parameters={**pipeline.parameters, "epochs": "9"})
    second = publish(second, score=0.75)
    store_artifacts(second, {"metrics.json": b"{}"})
    response = compare(viewer_client, pipeline.project_id, [first.id, second.id])
    comparison = response.context["comparison"]
    sections = {section.title: section for section in comparison.sections}
    assert {row.label for row in sections["Parameters"].rows if row.differs} == {"epochs"}
    artifacts = {row.label: row for row in sections["Artifacts"].rows}
    assert artifacts["notes.txt"].values[1] == "—" and artifacts["notes.txt"].differs
    assert artifacts["metrics.json"].differs  # 8 bytes against 2
    assert comparison.score_difference == pytest.approx(0.25)
    assert "+0.2500" in response.text
    assert comparison.overlays == []


def test_no_more_than_the_cap_of_runs_are_compared_and_the_page_says_so(viewer_client, pipeline):
    runs = [run_of(pipeline, Status.SUCCESSFUL) for _ in range(MOST_COMPARED + 2)]
    response = compare(viewer_client, pipeline.project_id, [run.id for run in runs])
    columns = response.context["comparison"].columns
    assert [column.url for column in columns] == [r.get_absolute_url() for r in runs][:10]
    assert "the first 10 are shown" in response.text
    assert 'id="add-run"' not in response.text  # full: nothing more to add


def test_unknown_and_foreign_ids_are_left_out(viewer_client, outsider, pipeline):
    mine = [run_of(pipeline, Status.SUCCESSFUL) for _ in range(2)]
    elsewhere = make_project(outsider, "Elsewhere")
    theirs = snapshotting_pipeline(elsewhere, outsider, {"train/a.csv": b"x\n1\n"})
    foreign = run_of(theirs, Status.SUCCESSFUL)
    asked = [mine[0].id, 999_999, "abc", foreign.id, "", "²", "9" * 25, mine[1].id, mine[0].id]
    response = compare(viewer_client, pipeline.project_id, asked)
    assert response.status_code == 200
    assert [run.id for run in response.context["chosen"]] == [mine[0].id, mine[1].id]
    assert len(response.context["comparison"].columns) == 2
    assert f"#{foreign.id}" not in response.text


def test_with_fewer_than_two_runs_the_page_asks_for_more(viewer_client, pipeline):
    run, other = run_of(pipeline, Status.SUCCESSFUL), run_of(pipeline, Status.FAILED)
    response = compare(viewer_client, pipeline.project_id, [run.id])
    assert response.context["comparison"] is None
    assert "Choose at least two runs" in response.text
    assert f'name="runs" value="{run.id}" checked' in response.text
    assert f'<option value="{other.id}">' in response.text  # to add
    assert f'<option value="{run.id}">' not in response.text


def test_runs_of_different_packages_are_labelled_with_their_package(
    viewer_client, project, owner, pipeline
):
    other_version = package_version_with(project, owner, TRAIN_PY, name="petal-net")
    other = training_pipeline(project, owner, other_version, pipeline.input_dataset).runs.get()
    run = run_of(pipeline, Status.SUCCESSFUL)
    for each in (run, other):
        report(each, "loss", [0.5, 0.25])
    response = compare(viewer_client, project.id, [run.id, other.id])
    columns = response.context["comparison"].columns
    assert [column.package for column in columns] == ["flowers-stdlib 1.0", "petal-net 1.0"]
    assert f'<li><span class="swatch series-1"></span> Run #{other.id} · petal-net 1.0</li>' in (
        response.text
    )


def test_runs_of_one_package_version_carry_no_package_label(viewer_client, three):
    response = compare(viewer_client, three[0].project_id, [run.id for run in three])
    assert {column.package for column in response.context["comparison"].columns} == {""}


def test_an_outsider_cannot_compare_the_projects_runs(outsider_client, three):
    response = compare(outsider_client, three[0].project_id, [run.id for run in three])
    assert response.status_code == 404


def test_runs_of_another_project_cannot_be_compared_from_the_outsiders_own(
    viewer_client, outsider, three
):
    elsewhere = make_project(outsider, "Elsewhere")
    assert compare(viewer_client, elsewhere.id, [three[0].id, three[1].id]).status_code == 404


def test_the_pipelines_list_offers_to_compare_the_latest_runs(viewer_client, project, three):
    page = viewer_client.get(reverse("pipelines:list", args=[project.id])).text
    compare_url = reverse("pipelines:compare", args=[project.id])
    assert f'<form id="compare-pick" method="get" action="{compare_url}">' in page
    latest = three[-1]
    assert f'form="compare-pick" name="runs" value="{latest.id}"' in page


def test_the_pipeline_page_offers_to_compare_its_runs(viewer_client, pipeline, three):
    page = viewer_client.get(pipeline.get_absolute_url()).text
    for run in three:
        assert f'name="runs" value="{run.id}"' in page
    assert "Compare chosen runs" in page


def test_the_run_page_offers_to_compare_with_other_runs_of_its_pipeline(viewer_client, three):
    page = viewer_client.get(three[0].get_absolute_url()).text
    assert f'<option value="{three[1].id}">' in page


def test_the_compare_page_reads_in_japanese(viewer_client, three):
    response = compare(viewer_client, three[0].project_id, [r.id for r in three], headers=JAPANESE)
    names = {"loss", "accuracy", "nightly", "flowers", "flowers-stdlib", "train", "Vision", "vera"}
    names.add("artifacts")  # a parameter's value
    names |= set(english_words(" ".join(run.resources.summary for run in three)))
    assert unmarked(response.text, names) == []
    assert "最終値" in response.text
    assert "パラメーター" in response.text


def test_the_package_version_row_differs_between_packages_of_one_number(
    viewer_client, project, owner, pipeline
):
    other_version = package_version_with(project, owner, TRAIN_PY, name="petal-net")
    other = training_pipeline(project, owner, other_version, pipeline.input_dataset).runs.get()
    run = run_of(pipeline, Status.SUCCESSFUL)
    response = compare(viewer_client, project.id, [run.id, other.id])
    facts = response.context["comparison"].sections[0]
    row = next(row for row in facts.rows if row.label == "Package version")
    assert row.values == ("flowers-stdlib 1.0", "petal-net 1.0") and row.differs
