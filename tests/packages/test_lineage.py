"""Lineage of runs and versions, a trained version's score against its parent, comparisons."""

import pytest
from django.urls import reverse

from packages.lineage import score_change
from packages.models import PackageVersion
from pipelines.lineage import lineage_of_run, lineage_of_version
from pipelines.models import DEFAULT_PARAMETERS, Status
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    publish,
    run_of,
    store_artifacts,
    training_pipeline,
)


@pytest.fixture
def uploaded(project, owner):
    version = example_version(project, owner)
    PackageVersion.objects.filter(id=version.id).update(score=0.8)
    version.refresh_from_db()
    return version


@pytest.fixture
def data(project):
    return dataset_with(project, "flowers", {"train/a.csv": b"x\n1\n"})


@pytest.fixture
def trained(project, owner, uploaded, data):
    """A run on flowers/train that kept its snapshot and made 1.1, itself used by a later run."""
    parameters = {**DEFAULT_PARAMETERS, "save_training_data": "true", "epochs": "3"}
    pipeline = training_pipeline(
        project, owner, uploaded, data, input_path="train", parameters=parameters
    )
    run = publish(run_of(pipeline, Status.SUCCESSFUL), score=0.85)
    store_artifacts(run, {"metrics.json": b"{}"})
    return run


@pytest.fixture
def user_of_trained(project, owner, trained, data):
    pipeline = training_pipeline(
        project, owner, trained.produced_version, data, name="retrain", input_path="train"
    )
    return pipeline.runs.get()


def version_url(version) -> str:
    return version.get_absolute_url()


def test_a_runs_lineage_goes_from_its_data_to_the_runs_that_used_its_version(
    trained, user_of_trained
):
    lineage = lineage_of_run(trained)
    assert lineage.data == [(trained.input_dataset, "train")]
    assert lineage.run.snapshot.file_count == 1
    assert lineage.version.label == "1.1"
    assert lineage.used_by == [user_of_trained]
    assert lineage.trained_from.label == "1.0"


def test_a_trained_versions_lineage_is_that_of_the_run_that_made_it(trained, user_of_trained):
    lineage = lineage_of_version(trained.produced_version)
    assert lineage.run == trained
    assert lineage.used_by == [user_of_trained]
    assert lineage.trained_from.label == "1.0"


def test_an_uploaded_version_has_no_run_but_lists_the_runs_that_used_it(uploaded, trained):
    lineage = lineage_of_version(uploaded)
    assert lineage.run is None and lineage.data == []
    assert trained in lineage.used_by


def test_a_trained_version_compares_its_score_with_its_parents(trained, uploaded):
    change = score_change(trained.produced_version)
    assert (change.parent, change.score) == (0.8, 0.85)
    assert change.difference == pytest.approx(0.05)
    assert score_change(uploaded) is None


def test_the_version_page_shows_the_chain_and_the_score_change(
    viewer_client, trained, user_of_trained
):
    version = trained.produced_version
    page = viewer_client.get(version_url(version)).text
    data_url = reverse(
        "datasets:folder", args=[trained.project_id, trained.input_dataset_id, "train"]
    )
    assert f'href="{data_url}"' in page
    assert f'href="{trained.get_absolute_url()}#snapshot"' in page
    assert f'href="{trained.get_absolute_url()}">run #{trained.id}</a>' in page
    assert "<strong>1.1</strong>" in page
    assert f'href="{user_of_trained.get_absolute_url()}">run #{user_of_trained.id}</a>' in page
    assert 'parent 1.0: 0.8000, <strong class="up">+0.0500</strong>' in page


def test_the_run_page_links_its_new_version_and_the_version_it_used(viewer_client, trained):
    page = viewer_client.get(trained.get_absolute_url()).text
    version = trained.produced_version
    assert f'<a href="{version_url(version)}">flowers-stdlib 1.1</a>' in page
    assert f'The run used <a href="{version_url(version.parent)}">flowers-stdlib 1.0</a>' in page
    assert "no run yet" in page


def test_an_uploaded_versions_page_says_it_was_uploaded(viewer_client, uploaded, trained):
    page = viewer_client.get(version_url(uploaded)).text
    assert "uploaded by olivia" in page
    assert f'href="{trained.get_absolute_url()}">run #{trained.id}</a>' in page


def compare_url(version) -> str:
    return reverse("packages:compare", args=[version.package.project_id, version.package_id])


def test_comparing_two_versions_sets_their_runs_side_by_side(viewer_client, uploaded, trained):
    response = viewer_client.get(compare_url(uploaded), {"versions": ["1.0", "1.1"]})
    sections = {section.title: section for section in response.context["sections"]}
    facts = {row.label: row for row in sections["Version"].rows}
    assert facts["Score"].values == ("0.8000", "0.8500")
    assert facts["Trained by"].values == ("—", f"run #{trained.id}")
    assert {row.label for row in sections["Parameters"].rows if row.differs} == {
        "artifacts_directory",
        "save_training_data",
        "epochs",
    }
    assert [row.label for row in sections["Artifacts"].rows] == ["metrics.json"]
    assert response.context["score_difference"] == pytest.approx(0.05)
    assert "+0.0500" in response.text


def test_the_package_page_lets_two_versions_be_ticked_for_comparison(viewer_client, trained):
    package = trained.produced_version.package
    page = viewer_client.get(package.get_absolute_url()).text
    assert f'action="{compare_url(trained.produced_version)}"' in page
    assert 'name="versions" value="1.1"' in page and 'name="versions" value="1.0"' in page


def test_the_compare_page_asks_for_two_versions(viewer_client, uploaded):
    response = viewer_client.get(compare_url(uploaded), {"versions": ["1.0"]})
    assert "Choose two versions" in response.text
    assert 'value="1.0" checked' in response.text


def test_an_unknown_version_is_404(viewer_client, uploaded):
    response = viewer_client.get(compare_url(uploaded), {"versions": ["1.0", "9.9"]})
    assert response.status_code == 404


def test_an_outsider_gets_404_from_the_lineage_and_comparison(outsider_client, trained):
    version = trained.produced_version
    assert outsider_client.get(version_url(version)).status_code == 404
    response = outsider_client.get(compare_url(version), {"versions": ["1.0", "1.1"]})
    assert response.status_code == 404
