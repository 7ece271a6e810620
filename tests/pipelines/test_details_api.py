"""The JSON API of one run's details: outputs, downloads and logs, on either store."""

import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pipelines.models import Metric, Status
from tests.factories import api_client, fetched
from tests.pipelines.builders import (
    publish,
    run_of,
    snapshotting_pipeline,
    store_artifacts,
    training_pipeline,
    write_log,
)

ARTIFACTS = {"model.bin": b"\0\1\2", "plots/roc.csv": b"fpr,tpr\n0,0\n1,1\n"}


@pytest.fixture
def api(viewer):
    return api_client(viewer)


@pytest.fixture
def pipeline(project, owner):
    files = {"train/a.csv": b"x\n1\n", "train/b.csv": b"x\n2\n"}
    return snapshotting_pipeline(project, owner, files)


@pytest.fixture
def run(pipeline):
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(run, ARTIFACTS)
    write_log(run, [("stdout", "one"), ("stderr", "two"), ("stdout", "three")])
    return publish(run, score=0.75)


def base(run) -> str:
    return f"/api/v1/projects/{run.project_id}/runs/{run.id}"


def names_in(response) -> list[str]:
    content = b"".join(response.streaming_content)
    return sorted(zipfile.ZipFile(io.BytesIO(content)).namelist())


def test_a_run_names_its_outputs(api, run):
    body = api.get(base(run)).json()
    assert body["status"] == "successful"
    assert body["score"] == 0.75
    assert body["outputs"] == {
        "package": run.package_version.package_id,
        "version": "1.1",
        "artifacts": 2,
        "snapshot": True,
    }


def test_listing_a_pipelines_runs_costs_the_same_queries_for_one_run_or_many(api, pipeline):
    url = f"/api/v1/projects/{pipeline.project_id}/pipelines/{pipeline.id}"
    store_artifacts(run_of(pipeline, Status.SUCCESSFUL), ARTIFACTS)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    queries()  # the first request of a token also records its use
    few = queries()
    for _ in range(5):
        store_artifacts(run_of(pipeline, Status.SUCCESSFUL), ARTIFACTS)
    assert queries() == few
    counts = [item["outputs"]["artifacts"] for item in api.get(url).json()["runs"]]
    assert counts == [2, 2, 2, 2, 2, 2, 0]


def test_the_artifacts_list_and_zip_hold_the_same_files(api, run):
    listed = api.get(f"{base(run)}/artifacts").json()
    assert listed["items"] == [
        {"path": "model.bin", "size": 3, "sha256": None},
        {"path": "plots/roc.csv", "size": 16, "sha256": None},
    ]
    assert names_in(api.get(f"{base(run)}/artifacts.zip")) == ["model.bin", "plots/roc.csv"]


def test_an_artifact_downloads_through_the_stores_link(api, run):
    response = api.get(f"{base(run)}/artifacts/plots/roc.csv")
    assert response.status_code == 302
    assert fetched(api, response) == ARTIFACTS["plots/roc.csv"]


def test_the_snapshot_list_and_zip_hold_the_same_files(api, run):
    listed = [item["path"] for item in api.get(f"{base(run)}/snapshot").json()["items"]]
    assert listed == ["a.csv", "b.csv"]
    assert names_in(api.get(f"{base(run)}/snapshot.zip")) == listed


def test_results_json_is_the_runs_summary(api, run):
    results = api.get(f"{base(run)}/results.json").json()
    assert results["run_summary"]["outputs"]["version"] == "1.1"
    assert results["parameters"]["env"]["save_training_data"] == "true"


def test_logs_after_a_line_hold_the_later_lines(api, run):
    body = api.get(f"{base(run)}/logs?after=1").json()
    assert [(line["n"], line["stream"], line["text"]) for line in body["lines"]] == [
        (2, "stderr", "two"),
        (3, "stdout", "three"),
    ]
    assert body["finished"] is True


def test_a_failed_run_has_no_snapshot_nor_results(api, pipeline):
    failed = run_of(pipeline, Status.FAILED, error="ValueError: no labels")
    assert api.get(base(failed)).json()["error"] == "ValueError: no labels"
    for path in ["snapshot", "snapshot.zip", "results.json"]:
        assert api.get(f"{base(failed)}/{path}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/logs",
        "/results.json",
        "/artifacts",
        "/artifacts/model.bin",
        "/artifacts.zip",
        "/snapshot",
        "/snapshot.zip",
        "/lineage",
    ],
)
def test_an_outsider_gets_404_from_every_run_endpoint(outsider, run, path):
    assert api_client(outsider).get(base(run) + path).status_code == 404


def test_a_runs_lineage_names_its_data_snapshot_version_and_later_runs(api, run, project, owner):
    later = training_pipeline(
        project, owner, run.produced_version, run.input_dataset, name="retrain"
    ).runs.get()
    body = api.get(f"{base(run)}/lineage").json()
    assert body == {
        "data": [{"dataset": run.input_dataset_id, "path": "train"}],
        "snapshot": run.snapshot_id,
        "run": run.id,
        "trained_from": "1.0",
        "version": "1.1",
        "used_by": [later.id],
        "used_by_count": 1,
    }


def test_two_runs_compare_with_their_differences_marked(api, run, pipeline):
    other = run_of(pipeline, Status.FAILED)
    url = f"/api/v1/projects/{run.project_id}/runs/compare?runs={run.id}&runs={other.id}"
    body = api.get(url).json()
    assert body["runs"] == [run.id, other.id]
    facts = {row["label"]: row for row in body["sections"][0]["rows"]}
    assert facts["Status"] == {
        "label": "Status",
        "left": "Successful",
        "right": "Failed",
        "differs": True,
    }
    assert facts["Type"]["differs"] is False
    assert api.get(url.split("&")[0]).status_code == 400


def test_the_comparison_is_the_same_data_in_any_language(api, run, pipeline):
    other = run_of(pipeline, Status.FAILED)
    url = f"/api/v1/projects/{run.project_id}/runs/compare?runs={run.id}&runs={other.id}"
    english = api.get(url).json()
    japanese = api.get(url, headers={"accept-language": "ja"}).json()
    assert japanese == english
    assert english["sections"][0]["title"] == "Run"


def test_the_comparison_lists_each_metrics_final_value(api, run, pipeline):
    other = run_of(pipeline, Status.SUCCESSFUL)
    Metric.objects.create(run=run, name="loss", count=2, last=0.25, last_step=1)
    Metric.objects.create(run=other, name="loss", count=2, last=0.125, last_step=1)
    url = f"/api/v1/projects/{run.project_id}/runs/compare?runs={run.id}&runs={other.id}"
    sections = {section["title"]: section for section in api.get(url).json()["sections"]}
    assert sections["Final values"]["rows"] == [
        {"label": "loss", "left": "0.25", "right": "0.125", "differs": True}
    ]


def test_comparing_other_than_two_runs_is_refused_with_the_error_shape(api, run):
    url = f"/api/v1/projects/{run.project_id}/runs/compare?runs={run.id}"
    response = api.get(url)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Name exactly two runs to compare.",
        "errors": [{"field": "runs", "message": "Name exactly two runs to compare."}],
    }


def test_an_outsider_cannot_compare_the_projects_runs(outsider, run):
    url = f"/api/v1/projects/{run.project_id}/runs/compare?runs={run.id}&runs={run.id}"
    assert api_client(outsider).get(url).status_code == 404
