"""Code written for MLflow reports to its run unchanged, on real workers with the network off.

The example package flowers-mlflow calls mlflow.log_params, set_tag and log_metrics per
epoch; its environment (mlflow-skinny from the package index, through the build's gate) is
built once for this module: its tests share one worker folder.
"""

import pytest

from pipelines.models import Status
from tests.integration.test_runs import FAST, create_pipeline, finished
from tests.pipelines.builders import example_version

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BUILD_SECONDS = 600


@pytest.fixture(scope="module")
def worker_dir(tmp_path_factory):
    """Where each test's worker keeps its environments: the first test builds, the next reuse."""
    folder = tmp_path_factory.mktemp("mlflow-worker")
    folder.chmod(0o755)  # the run's user reaches the environment below it
    return folder


def run_example(workers, worker_dir, api, project, owner, flowers, run_network: str, **fields):
    workers.start(AICENTER_WORKER_DIR=str(worker_dir), RUN_NETWORK=run_network, **FAST)
    version = example_version(project, owner, "flowers-mlflow")
    pipeline = create_pipeline(
        api, project, version, input_dataset=flowers.id, input_path="train", **fields
    )
    run = finished(pipeline["runs"][0]["id"], timeout=BUILD_SECONDS)
    assert run.status == Status.SUCCESSFUL, run.error
    return f"/api/v1/projects/{project.id}/runs/{run.id}"


def test_mlflow_calls_record_metrics_and_logged_parameters_with_the_network_off(
    workers, worker_dir, api, project, owner, flowers
):
    base = run_example(workers, worker_dir, api, project, owner, flowers, "off")
    summaries = {item["name"]: item for item in api.get(f"{base}/metrics").json()["items"]}
    assert {name: item["count"] for name, item in summaries.items()} == {
        "accuracy": 30,
        "loss": 30,
    }
    assert summaries["loss"]["last"] < summaries["loss"]["max"]  # it learned
    points = api.get(f"{base}/metrics/loss").json()["items"]
    assert [point["step"] for point in points] == list(range(1, 31))
    run = api.get(base).json()
    assert run["logged_parameters"] == {"epochs": "30", "learning_rate": "0.5", "rows": "120"}
    assert run["tags"] == {"model": "softmax regression"}
    assert "learning_rate" not in run["parameters"]
    log = api.get(f"{base}/logs").json()["lines"]
    assert any("Trained on 120 rows for 30 epochs" in line["text"] for line in log)
    assert not any("cannot report" in line["text"] for line in log)


def test_a_run_on_the_hosts_network_reports_through_its_token(
    workers, worker_dir, api, project, owner, flowers
):
    base = run_example(
        workers,
        worker_dir,
        api,
        project,
        owner,
        flowers,
        "host",
        network=True,
        parameters={"epochs": "5"},
    )
    counts = {item["name"]: item["count"] for item in api.get(f"{base}/metrics").json()["items"]}
    assert counts == {"accuracy": 5, "loss": 5}
    assert api.get(base).json()["logged_parameters"]["epochs"] == "5"
