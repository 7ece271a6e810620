"""The run's MLflow tracking endpoint, answering MLflow's own client."""

import http.client
import json
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from pipelines.models import MAX_METRIC_NAME
from pipelines.runner import metrics, tracking
from pipelines.runner.metrics import advance, parse
from pipelines.runner.tracking import serve
from tests.pipelines.test_harness import run_harness

TRACKING = Path(__file__).resolve().parents[2] / "pipelines" / "runner" / "tracking.py"

TRAINING_WITH_MLFLOW = """\
import mlflow

class Main:
    def train(self, training_directory):
        mlflow.log_param("learning_rate", 0.1)
        mlflow.log_params({"epochs": 3, "model": "sgd"})
        mlflow.set_tag("team", "vision")
        for epoch in range(3):
            mlflow.log_metric("loss", 1 / (epoch + 1), step=epoch)
            mlflow.log_metrics({"accuracy": epoch / 4, "broken": float("nan")}, step=epoch)

    def save(self):
        pass
"""

PRINTING_THE_URI = """\
import os

class Main:
    def train(self, training_directory):
        print(os.environ.get("MLFLOW_TRACKING_URI"))

    def save(self):
        pass
"""


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def endpoint(tmp_path):
    server = serve(str(tmp_path / "metrics.jsonl"), str(tmp_path / "logged.jsonl"))
    yield server
    server.shutdown()
    server.server_close()


def call(url: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def tracking_spec(tmp_path: Path) -> dict:
    return {
        "code": str(TRACKING),
        "metrics": str(tmp_path / "metrics.jsonl"),
        "logged": str(tmp_path / "logged.jsonl"),
    }


def test_mlflow_calls_in_the_run_reach_the_metrics_and_logged_files(tmp_path):
    process, _, result, _ = run_harness(
        tmp_path, "training", TRAINING_WITH_MLFLOW, tracking=tracking_spec(tmp_path)
    )
    assert process.returncode == 0, process.stderr
    assert result == {}
    points = lines(tmp_path / "metrics.jsonl")
    assert [(p.get("step", 0), p["value"]) for p in points if p["name"] == "loss"] == [
        (0, 1.0),
        (1, 0.5),
        (2, 1 / 3),
    ]
    assert [p["value"] for p in points if p["name"] == "accuracy"] == [0.0, 0.25, 0.5]
    assert [p["value"] for p in points if p["name"] == "broken"] == [None, None, None]
    assert lines(tmp_path / "logged.jsonl") == [
        {"kind": "param", "key": "learning_rate", "value": "0.1"},
        {"kind": "param", "key": "epochs", "value": "3"},
        {"kind": "param", "key": "model", "value": "sgd"},
        {"kind": "tag", "key": "team", "value": "vision"},
    ]
    assert "View run" not in process.stdout  # no link to a web interface that is not there


def test_a_pipeline_that_names_its_own_tracking_server_keeps_it(tmp_path):
    process, _, _, _ = run_harness(
        tmp_path,
        "training",
        PRINTING_THE_URI,
        tracking=tracking_spec(tmp_path),
        MLFLOW_TRACKING_URI="file:///elsewhere",
    )
    assert process.stdout.splitlines()[-1] == "file:///elsewhere"


def test_without_mlflow_in_the_environment_nothing_is_served(tmp_path):
    process, _, result, _ = run_harness(
        tmp_path,
        "training",
        PRINTING_THE_URI,
        python=sys._base_executable,  # the interpreter the test environment was made from
        tracking=tracking_spec(tmp_path),
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines()[-1] == "None"


def test_the_client_logs_a_batch_and_reads_its_run_back(endpoint, tmp_path):
    client = MlflowClient(tracking_uri=endpoint.uri)
    run = client.create_run("0", tags={"stage": "tuning"})
    run_id = run.info.run_id
    client.log_batch(run_id, params=[], tags=[])
    client.log_param(run_id, "layers", 4)
    client.log_metric(run_id, "loss", 0.5, step=7)
    client.set_terminated(run_id)
    stored = client.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"layers": "4"}
    assert stored.data.tags == {"stage": "tuning"}  # the client's own mlflow.* tags left out
    assert lines(tmp_path / "metrics.jsonl") == [{"name": "loss", "value": 0.5, "step": 7}]


def test_points_logged_without_a_step_follow_one_another(endpoint, tmp_path):
    client = MlflowClient(tracking_uri=endpoint.uri)
    run_id = client.create_run("0").info.run_id
    for value in [0.9, 0.5, 0.3]:
        client.log_metric(run_id, "loss", value)  # the client sends step 0
    client.log_metric(run_id, "loss", 0.2, step=10)
    client.log_metric(run_id, "loss", 0.1)
    steps: dict[str, int] = {}
    read = []
    for line in (tmp_path / "metrics.jsonl").read_bytes().splitlines():
        points = parse(line, steps)  # as the runner reads the file
        advance(steps, points)
        read += [(point.step, point.value) for point in points]
    assert read == [(0, 0.9), (1, 0.5), (2, 0.3), (10, 0.2), (11, 0.1)]


def test_a_silent_connection_is_dropped_and_the_next_client_answered(endpoint, monkeypatch):
    monkeypatch.setattr(tracking, "IDLE_SECONDS", 0.5)
    silent = socket.create_connection(("127.0.0.1", endpoint.server_address[1]))
    status, answer = call(f"{endpoint.uri}/api/2.0/mlflow/experiments/get?experiment_id=0")
    assert (status, answer["experiment"]["name"]) == (200, "Default")
    silent.close()


def test_experiments_are_found_by_name_once_created(endpoint):
    client = MlflowClient(tracking_uri=endpoint.uri)
    assert client.get_experiment_by_name("flowers") is None
    created = client.create_experiment("flowers")
    assert client.get_experiment_by_name("flowers").experiment_id == created
    assert client.get_experiment("0").name == "Default"


def test_a_request_without_the_runs_token_gets_404(endpoint, tmp_path):
    port = endpoint.server_address[1]
    body = json.dumps({"experiment_id": "0"}).encode()
    for prefix in ["", "/wrong-token"]:
        url = f"http://127.0.0.1:{port}{prefix}/api/2.0/mlflow/runs/create"
        status, _ = call(url, body)
        assert status == 404
    assert call(f"{endpoint.uri}/api/2.0/mlflow/runs/create", body)[0] == 200
    assert not (tmp_path / "logged.jsonl").exists()


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("runs/log-metric", b"not json", 400, "The body is not JSON."),
        ("runs/log-metric", b"[1, 2]", 400, "The body is not a JSON object."),
        ("runs/log-metric", {"key": "loss", "value": 1}, 404, "No run None."),
        ("runs/log-metric", {"key": "loss", "value": "high"}, 400, "'value' must be a number."),
        ("runs/log-metric", {"key": "", "value": 1}, 400, "'key' must be text."),
        ("runs/log-metric", {"key": "loss", "value": 1, "step": 1.5}, 400, "whole number"),
        ("runs/log-metric", {"key": "loss", "value": 1, "step": "²"}, 400, "whole number"),
        ("runs/log-metric", {"key": "loss", "value": 1, "step": -1}, 400, "from 0 to"),
        ("runs/log-metric", {"key": "l" * 201, "value": 1}, 400, "longer than 200"),
        ("runs/log-parameter", {"key": "lr", "value": "x" * 6001}, 400, "longer than 6000"),
        ("runs/log-batch", {"metrics": {"loss": 1}}, 400, "must be lists of objects"),
        ("runs/delete", {}, 404, "does not answer POST runs/delete"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    endpoint, tmp_path, path, body, status, message
):
    run_id = MlflowClient(tracking_uri=endpoint.uri).create_run("0").info.run_id
    if isinstance(body, dict):
        needs_run = message != "No run None."
        body = json.dumps({**body, **({"run_id": run_id} if needs_run else {})}).encode()
    answered, answer = call(f"{endpoint.uri}/api/2.0/mlflow/{path}", body)
    assert answered == status
    assert message in answer["message"]
    assert lines(tmp_path / "metrics.jsonl") == []
    assert lines(tmp_path / "logged.jsonl") == []


def test_the_client_sees_a_refusal_as_its_own_error(endpoint):
    client = MlflowClient(tracking_uri=endpoint.uri)
    with pytest.raises(MlflowException, match="No run 'missing'"):
        client.log_param("missing", "lr", 0.1)


def test_a_body_over_the_limit_is_refused_unread(endpoint):
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.server_address[1], timeout=10)
    path = urlsplit(endpoint.uri).path + "/api/2.0/mlflow/runs/set-tag"
    connection.request("POST", path, b"{}", {"Content-Length": str(2 * 1024 * 1024)})
    answer = connection.getresponse()
    assert answer.status == 400
    assert "at most 1048576 bytes" in json.loads(answer.read())["message"]
    connection.close()


def test_a_metrics_file_the_code_swapped_for_a_link_is_not_written_through(endpoint, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("")
    (tmp_path / "metrics.jsonl").symlink_to(elsewhere)
    client = MlflowClient(tracking_uri=endpoint.uri)
    run_id = client.create_run("0").info.run_id
    body = json.dumps({"run_id": run_id, "key": "loss", "value": 1, "step": 0}).encode()
    status, answer = call(f"{endpoint.uri}/api/2.0/mlflow/runs/log-metric", body)
    assert (status, answer["error_code"]) == (400, "INVALID_STATE")  # not retried by the client
    assert "could not be written" in answer["message"]
    assert elsewhere.read_text() == ""


def test_the_endpoints_limits_are_the_runners():
    # tracking.py loads in the package's environment, with the standard library alone: it
    # repeats the runner's limits, which must stay the same.
    assert (tracking.MAX_METRIC_KEY, tracking.MAX_STEP) == (MAX_METRIC_NAME, metrics.MAX_STEP)
