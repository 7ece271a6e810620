"""Runs end to end: the API starts them, real qcluster workers execute them."""

import io
import json
import time
import zipfile

import pytest
from django.conf import settings
from django_q.tasks import async_task

from aicenter.store import get_store
from packages.examples import EXAMPLES
from packages.models import PackageVersion
from pipelines.models import Run, Status
from pipelines.reaper import reap_lost_runs
from pipelines.runner.run import run_pipeline
from tests.integration.conftest import wait_for
from tests.pipelines.builders import example_version, free_name, package_version_with
from tests.processes import live_members

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
FINISHED = [Status.SUCCESSFUL, Status.FAILED, Status.KILLED]
FAST = {"HEARTBEAT_SECONDS": 1, "KILL_GRACE_SECONDS": 2}


def create_pipeline(api, project, version, **fields) -> dict:
    body = {
        "name": fields.pop("name", None) or free_name(project),
        "type": fields.pop("type", "training"),
        "package": version.package_id,
        "version": version.label,
        **fields,
    }
    response = api.post(
        f"/api/v1/projects/{project.id}/pipelines",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def finished(run_id: int, timeout: float = 90) -> Run:
    def done():
        run = Run.objects.get(id=run_id)
        return run if run.status in FINISHED else None

    return wait_for(done, timeout=timeout, what=f"run {run_id} to finish")


def started_run(api, project, version, **fields) -> int:
    return create_pipeline(api, project, version, **fields)["runs"][0]["id"]


def streamed_zip(response) -> zipfile.ZipFile:
    content = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(content)
    return zipfile.ZipFile(io.BytesIO(content))


def zip_names(version: PackageVersion) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(get_store().get_bytes(version.zip_key))).namelist())


@pytest.mark.parametrize(
    ("example", "model_file"), [("flowers-stdlib", "model.json"), ("flowers-sklearn", "model.pkl")]
)
def test_training_runs_make_minor_versions_holding_the_saved_model(
    workers, api, project, owner, flowers, example, model_file
):
    workers.start(**FAST)
    version = example_version(project, owner, example)
    pipeline = create_pipeline(
        api,
        project,
        version,
        input_dataset=flowers.id,
        input_path="train",
        parameters={"save_training_data": "true"},
    )
    first = finished(pipeline["runs"][0]["id"], timeout=180)
    assert first.status == Status.SUCCESSFUL, first.error
    assert first.produced_version.label == "1.1"
    assert model_file in zip_names(first.produced_version)
    assert first.produced_version.parent == version
    reported = {"flowers-stdlib": {}, "flowers-sklearn": {"accuracy": 30, "loss": 30}}[example]
    assert {m["name"]: m["count"] for m in first.metrics.summaries()} == reported

    base = f"/api/v1/projects/{project.id}/packages/{version.package_id}/versions"
    made = api.get(f"{base}/1.1").json()
    assert (made["source"], made["run"], made["parent"]) == ("run", first.id, "1.0")
    assert first.snapshot_id is not None
    assert made["snapshot"] == first.snapshot_id
    assert api.get(f"{base}/1.0").json()["run"] is None

    again = api.post(f"/api/v1/projects/{project.id}/pipelines/{pipeline['id']}/runs").json()
    second = finished(again["id"])
    assert second.produced_version.label == "1.2"

    snapshot = api.get(f"/api/v1/projects/{project.id}/runs/{first.id}/snapshot").json()
    input_file = flowers.files.get(path="train/flowers.csv")
    assert snapshot["items"] == [
        {"path": "flowers.csv", "size": input_file.size, "sha256": input_file.sha256_id}
    ]
    archive = streamed_zip(api.get(f"/api/v1/projects/{project.id}/runs/{first.id}/snapshot.zip"))
    expected = (EXAMPLES.parent / "datasets" / "flowers" / "train" / "flowers.csv").read_bytes()
    assert {name: archive.read(name) for name in archive.namelist()} == {"flowers.csv": expected}


def test_results_json_has_the_documented_shape(workers, api, project, owner, flowers):
    workers.start(**FAST)
    version = example_version(project, owner)
    run = finished(started_run(api, project, version, input_dataset=flowers.id, input_path="train"))
    results = api.get(f"/api/v1/projects/{project.id}/runs/{run.id}/results.json").json()
    assert results["parameters"] == {
        "pipeline": "nightly",
        "inputs": {
            "package": "flowers-stdlib",
            "version": "1.0",
            "train_data": "flowers/train",
            "gpu": "False",
        },
        "env": {"artifacts_directory": "artifacts", "save_training_data": "false"},
    }
    summary = results["run_summary"]
    assert summary["end_at"] - summary["start_at"] == summary["execution_time"]
    assert summary["start_at"] == int(run.started_at.timestamp())
    assert summary["outputs"]["train_data"] is None
    assert summary["outputs"]["package"] == "flowers-stdlib"
    assert summary["outputs"]["version"] == "1.1"
    assert "score" not in summary
    assert json.loads(get_store().get_bytes(f"runs/{run.id}/_results.json")) == results
    assert api.get(f"/api/v1/projects/{project.id}/runs/{run.id}/snapshot").status_code == 404


def test_artifacts_are_listed_and_downloadable(workers, api, project, owner, flowers, client):
    workers.start(**FAST)
    version = example_version(project, owner)
    run = finished(started_run(api, project, version, input_dataset=flowers.id, input_path="train"))
    listed = api.get(f"/api/v1/projects/{project.id}/runs/{run.id}/artifacts").json()
    assert [item["path"] for item in listed["items"]] == ["centroids.json"]
    response = api.get(f"/api/v1/projects/{project.id}/runs/{run.id}/artifacts/centroids.json")
    assert response.status_code == 302
    stored = get_store().get_bytes(f"runs/{run.id}/artifacts/centroids.json")
    assert set(json.loads(stored)) == {"setosa", "versicolor", "virginica"}
    archive = streamed_zip(api.get(f"/api/v1/projects/{project.id}/runs/{run.id}/artifacts.zip"))
    assert archive.read("centroids.json") == stored


def test_evaluation_records_the_score_on_run_and_version(workers, api, project, owner, flowers):
    workers.start(**FAST)
    uploaded = example_version(project, owner)
    training = finished(
        started_run(api, project, uploaded, input_dataset=flowers.id, input_path="train")
    )
    version = training.produced_version
    run = finished(
        started_run(
            api,
            project,
            version,
            type="evaluation",
            evaluation_dataset=flowers.id,
            evaluation_path="test",
        )
    )
    assert run.status == Status.SUCCESSFUL, run.error
    assert 0 < run.score <= 1
    version.refresh_from_db()
    assert version.score == run.score
    assert run.produced_version is None
    assert run.results["run_summary"]["score"] == run.score


def test_full_run_makes_a_version_with_a_score(workers, api, project, owner, flowers):
    workers.start(**FAST)
    version = example_version(project, owner)
    run = finished(started_run(api, project, version, type="full", input_dataset=flowers.id))
    assert run.status == Status.SUCCESSFUL, run.error
    assert run.produced_version.label == "1.1"
    assert run.produced_version.score == run.score
    assert run.score > 0.5


RAISING = """\
class Main:
    def train(self, training_directory):
        print("reading", training_directory)
        raise RuntimeError("no labels in " + training_directory)

    def save(self):
        pass
"""


def test_a_raising_train_fails_with_the_exception_and_keeps_its_output(
    workers, api, project, owner, flowers
):
    workers.start(**FAST)
    version = package_version_with(project, owner, RAISING)
    run = finished(started_run(api, project, version, input_dataset=flowers.id))
    assert run.status == Status.FAILED
    assert run.error.startswith("RuntimeError: no labels in ")
    assert 'File "' in run.error
    texts = list(run.log_lines.values_list("stream", "text"))
    assert any(stream == "stdout" and text.startswith("reading ") for stream, text in texts)
    assert any(stream == "stderr" and "RuntimeError" in text for stream, text in texts)
    assert not PackageVersion.objects.filter(source="run").exists()


SLEEPING = """\
import os, subprocess, time
from pathlib import Path

class Main:
    def train(self, training_directory):
        subprocess.Popen(["sleep", "600"])  # a child in the run's process group
        Path(os.environ["artifacts_directory"], "pid").write_text(str(os.getpid()))
        print("sleeping", flush=True)
        time.sleep(600)

    def save(self):
        pass
"""


def pid_of_sleeper(run_id: int) -> int:
    wait_for(
        lambda: Run.objects.get(id=run_id).log_lines.filter(text="sleeping").exists(),
        what="the run to start sleeping",
    )
    return Run.objects.get(id=run_id).process_group


def test_a_killed_run_ends_killed_within_seconds_and_its_process_is_gone(
    workers, api, project, owner, flowers
):
    workers.start(**FAST)
    version = package_version_with(project, owner, SLEEPING)
    run_id = started_run(api, project, version, input_dataset=flowers.id)
    group = pid_of_sleeper(run_id)
    asked = time.monotonic()
    response = api.post(f"/api/v1/projects/{project.id}/runs/{run_id}/kill")
    assert response.status_code == 200
    run = finished(run_id, timeout=30)
    assert run.status == Status.KILLED
    assert time.monotonic() - asked < 10
    assert not live_members(group)


def test_a_run_past_its_timeout_fails_saying_so(workers, api, project, owner, flowers):
    workers.start(**FAST)
    version = package_version_with(project, owner, SLEEPING)
    run = finished(started_run(api, project, version, input_dataset=flowers.id, timeout=3))
    assert run.status == Status.FAILED
    assert run.error == "Timed out: the run took longer than 3 seconds."


def test_a_killed_scheduled_run_never_starts(api, project, owner, flowers):
    version = example_version(project, owner)
    run_id = started_run(api, project, version, input_dataset=flowers.id)
    api.post(f"/api/v1/projects/{project.id}/runs/{run_id}/kill")
    run_pipeline(run_id)
    run = Run.objects.get(id=run_id)
    assert run.status == Status.KILLED
    assert run.started_at is None


def test_a_lost_worker_is_reaped_and_the_next_run_succeeds_elsewhere(
    workers, api, project, owner, flowers, settings
):
    doomed = workers.start("host-a", **FAST)
    version = package_version_with(project, owner, SLEEPING)
    run_id = started_run(api, project, version, input_dataset=flowers.id)
    group = pid_of_sleeper(run_id)
    workers.kill(doomed)
    wait_for(lambda: not live_members(group), timeout=10, what="the run's processes to end")
    settings.HEARTBEAT_TIMEOUT = 3
    wait_for(lambda: reap_lost_runs() or None, timeout=30, what="the reaper to fail the run")
    run = Run.objects.get(id=run_id)
    assert run.status == Status.FAILED
    assert run.error.startswith("Worker lost: host-a:")

    workers.start("host-b", **FAST)
    healthy = example_version(project, owner, "flowers-stdlib")
    next_run = finished(
        started_run(api, project, healthy, input_dataset=flowers.id, input_path="train")
    )
    assert next_run.status == Status.SUCCESSFUL
    assert next_run.worker.startswith("host-b:")


def test_runs_finishing_together_get_different_versions(workers, api, project, owner, flowers):
    workers.start(**FAST)
    version = example_version(project, owner)
    pipeline = create_pipeline(api, project, version, input_dataset=flowers.id, input_path="train")
    for _ in range(3):
        api.post(f"/api/v1/projects/{project.id}/pipelines/{pipeline['id']}/runs")
    runs = [finished(run.id) for run in Run.objects.filter(pipeline_id=pipeline["id"])]
    labels = sorted(run.produced_version.label for run in runs)
    assert labels == ["1.1", "1.2", "1.3", "1.4"]


def test_a_task_delivered_twice_executes_once(workers, api, project, owner, flowers):
    workers.start(**FAST)
    version = example_version(project, owner)
    run_id = started_run(api, project, version, input_dataset=flowers.id, input_path="train")
    async_task("pipelines.tasks.execute_run", run_id)
    run = finished(run_id)
    time.sleep(2)
    assert run.status == Status.SUCCESSFUL
    assert run.log_lines.filter(text__startswith=f"Run {run_id} started").count() == 1
    assert PackageVersion.objects.filter(source="run").count() == 1


SNOOPING = """\
import json, os
from pathlib import Path

class Main:
    def train(self, training_directory):
        Path(os.environ["artifacts_directory"], "env.json").write_text(json.dumps(dict(os.environ)))

    def save(self):
        pass
"""


def test_user_code_sees_its_parameters_and_none_of_the_secrets(
    workers, api, project, owner, flowers
):
    workers.start(**FAST)
    version = package_version_with(project, owner, SNOOPING)
    run = finished(
        started_run(api, project, version, input_dataset=flowers.id, parameters={"epochs": "5"})
    )
    assert run.status == Status.SUCCESSFUL, run.error
    seen = json.loads(get_store().get_bytes(f"runs/{run.id}/artifacts/env.json"))
    assert seen["epochs"] == "5"
    assert seen["save_training_data"] == "false"
    assert seen["artifacts_directory"].endswith("/artifacts")
    assert seen["data_directory"].endswith("/data")
    assert seen["training_data_directory"] == seen["data_directory"]
    for secret in [
        settings.SECRET_KEY,
        "DATABASE_URL",
        "SECRET_KEY",
        "S3_SECRET_ACCESS_KEY",
        "STORAGE_URL",
        "Q_BROKER",
    ]:
        assert secret not in json.dumps(seen)


NOISY = """\
import sys

class Main:
    def train(self, training_directory):
        sys.stdout.buffer.write(b"caf\\xe9 \\xff bytes\\n")
        sys.stdout.flush()
        for number in range(5000):
            print("line", number, "x" * 50)

    def save(self):
        pass
"""


def test_logs_survive_bad_bytes_and_stop_at_the_cap_with_a_marker(
    workers, api, project, owner, flowers
):
    workers.start(RUN_LOG_MAX_BYTES=20_000, **FAST)
    version = package_version_with(project, owner, NOISY)
    run = finished(started_run(api, project, version, input_dataset=flowers.id))
    assert run.status == Status.SUCCESSFUL, run.error
    texts = list(run.log_lines.values_list("text", flat=True))
    assert "caf\ufffd \ufffd bytes" in texts
    assert "[log truncated: the run wrote more than 20,000 bytes]" in texts
    assert texts[-1] == "Run successful."
    assert sum(len(text) + 1 for text in texts) < 21_000
