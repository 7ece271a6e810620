import json

import pytest
from django.conf import settings
from django_q.brokers import get_broker

from pipelines.models import Pipeline, Run, Status
from pipelines.runner.logs import RunLog
from tests.factories import api_client
from tests.pipelines import builders
from tests.pipelines.builders import dataset_with, example_version, package_version_with

EVALUATE_ONLY = "class Main:\n    def evaluate(self, evaluation_directory):\n        return 1.0\n"


@pytest.fixture
def version(project, owner):
    return example_version(project, owner)


@pytest.fixture
def data(project):
    return dataset_with(project, "reviews", {"train/a.csv": b"x,y\n1,2\n", "test/b.csv": b"x\n"})


@pytest.fixture
def api(owner):
    return api_client(owner)


def training_body(version, data, /, **changes) -> dict:
    return builders.training_body(version, data, **{"input_path": "train", **changes})


def post_pipeline(client, project, **body):
    return builders.post_pipeline(client, project, body)


def error_fields(response) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def test_creating_a_pipeline_starts_a_scheduled_run_with_the_defaults(api, project, version, data):
    response = post_pipeline(api, project, **training_body(version, data, parameters={"epochs": 3}))
    body = response.json()
    assert response.status_code == 201
    assert body["parameters"] == {
        "artifacts_directory": "artifacts",
        "save_training_data": "false",
        "epochs": "3",
    }
    assert [run["status"] for run in body["runs"]] == ["scheduled"]
    assert Run.objects.get().parameters["epochs"] == "3"


def test_a_run_answers_its_own_parameters_after_its_pipeline_changes(api, project, version, data):
    created = post_pipeline(api, project, **training_body(version, data, parameters={"epochs": 3}))
    pipeline_id, run_id = created.json()["id"], created.json()["runs"][0]["id"]
    changed = training_body(version, data, parameters={"epochs": 9})
    url = f"/api/v1/projects/{project.id}/pipelines/{pipeline_id}"
    assert api.put(url, json.dumps(changed), content_type="application/json").status_code == 200
    run = api.get(f"/api/v1/projects/{project.id}/runs/{run_id}").json()
    assert run["parameters"] == {
        "artifacts_directory": "artifacts",
        "save_training_data": "false",
        "epochs": "3",
    }


def test_the_run_is_queued_once_the_transaction_commits(
    api, project, version, data, django_capture_on_commit_callbacks
):
    broker = get_broker()
    before = broker.queue_size()
    with django_capture_on_commit_callbacks(execute=True):
        post_pipeline(api, project, **training_body(version, data))
    assert broker.queue_size() == before + 1


def test_a_gpu_run_goes_to_the_gpu_queue_and_says_it_waits(
    api, project, version, data, django_capture_on_commit_callbacks
):
    gpu_queue = get_broker(settings.GPU_CLUSTER)
    before = gpu_queue.queue_size()
    with django_capture_on_commit_callbacks(execute=True):
        body = post_pipeline(api, project, **training_body(version, data, gpu=True)).json()
    assert gpu_queue.queue_size() == before + 1
    assert "GPU worker" in body["runs"][0]["waiting"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"parameters": {"bad name": "1"}}, "parameters", "'bad name' is not a valid variable"),
        ({"parameters": {"artifacts_directory": "../out"}}, "parameters", "relative folder"),
        ({"parameters": {"artifacts_directory": "data/out"}}, "parameters", "is reserved"),
        ({"parameters": {"save_training_data": "maybe"}}, "parameters", "true or false"),
        ({"input_dataset": None}, "input_dataset", "needs an input dataset"),
        ({"input_path": "nowhere"}, "input_path", "reviews/nowhere has no files"),
        ({"version": "7.0"}, "version", "has no version '7.0'"),
        ({"type": "evaluation"}, "evaluation_dataset", "needs an evaluation dataset"),
        ({"schedule": {"kind": "once", "at": 5}}, "run_at", "Choose when to run it."),
        ({"schedule": {"kind": "recurring", "every": "1h", "end": 5}}, "ends_at", "valid date"),
    ],
)
def test_a_bad_definition_is_refused_next_to_its_field(
    api, project, version, data, changes, field, message
):
    response = post_pipeline(api, project, **training_body(version, data, **changes))
    assert response.status_code == 400
    assert message in error_fields(response)[field]
    assert not Pipeline.objects.exists()
    assert not Run.objects.exists()


def test_a_version_lacking_the_types_methods_is_refused(api, project, owner, data):
    version = package_version_with(project, owner, EVALUATE_ONLY)
    response = post_pipeline(api, project, **training_body(version, data))
    assert "cannot run training pipelines" in error_fields(response)["version"]


@pytest.mark.parametrize("body", ["{", b"\xff\xfe{}"])
def test_a_malformed_body_is_refused(api, project, body):
    response = api.post(
        f"/api/v1/projects/{project.id}/pipelines", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert error_fields(response)["body"] == "The body is not valid JSON."


def test_killing_a_scheduled_run_ends_it_at_once(api, project, version, data):
    run_id = post_pipeline(api, project, **training_body(version, data)).json()["runs"][0]["id"]
    response = api.post(f"/api/v1/projects/{project.id}/runs/{run_id}/kill")
    assert response.json()["status"] == "killed"
    assert Run.objects.get(id=run_id).status == Status.KILLED


def test_logs_are_read_after_a_line_number(api, project, version, data):
    run_id = post_pipeline(api, project, **training_body(version, data)).json()["runs"][0]["id"]
    log = RunLog(Run.objects.get(id=run_id))
    for text in ["one", "two", "three"]:
        log.add("stdout", text)
    log.flush()
    body = api.get(f"/api/v1/projects/{project.id}/runs/{run_id}/logs?after=1").json()
    assert [line["text"] for line in body["lines"]] == ["two", "three"]
    assert body["finished"] is False


def test_removing_a_pipeline_keeps_its_runs(api, project, version, data):
    body = post_pipeline(api, project, **training_body(version, data)).json()
    response = api.delete(f"/api/v1/projects/{project.id}/pipelines/{body['id']}")
    assert response.status_code == 204
    run = Run.objects.get(id=body["runs"][0]["id"])
    assert run.pipeline is None
    assert run.status == Status.KILLED
    assert api.get(f"/api/v1/projects/{project.id}/runs/{run.id}").status_code == 200


def test_a_viewer_reads_but_cannot_start_or_stop(project, viewer, api, version, data):
    body = post_pipeline(api, project, **training_body(version, data)).json()
    client = api_client(viewer)
    base = f"/api/v1/projects/{project.id}"
    run_id = body["runs"][0]["id"]
    assert client.get(f"{base}/pipelines/{body['id']}").status_code == 200
    assert post_pipeline(client, project, **training_body(version, data)).status_code == 403
    assert client.post(f"{base}/pipelines/{body['id']}/runs").status_code == 403
    assert client.post(f"{base}/runs/{run_id}/kill").status_code == 403
    assert client.delete(f"{base}/pipelines/{body['id']}").status_code == 403
    assert Run.objects.get(id=run_id).status == Status.SCHEDULED


def test_an_outsider_gets_404_for_pipelines_and_runs(project, outsider, api, version, data):
    body = post_pipeline(api, project, **training_body(version, data)).json()
    client = api_client(outsider)
    base = f"/api/v1/projects/{project.id}"
    run_id = body["runs"][0]["id"]
    for response in [
        client.get(f"{base}/pipelines"),
        post_pipeline(client, project, **training_body(version, data)),
        client.get(f"{base}/pipelines/{body['id']}"),
        client.post(f"{base}/pipelines/{body['id']}/runs"),
        client.get(f"{base}/runs/{run_id}"),
        client.post(f"{base}/runs/{run_id}/kill"),
        client.get(f"{base}/runs/{run_id}/logs"),
        client.get(f"{base}/runs/{run_id}/artifacts"),
        client.delete(f"{base}/pipelines/{body['id']}"),
    ]:
        assert response.status_code == 404
    assert Run.objects.count() == 1


def run_now(client, pipeline: dict, project, body: dict | None = None):
    url = f"/api/v1/projects/{project.id}/pipelines/{pipeline['id']}/runs"
    data = "" if body is None else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def test_parameters_given_to_one_run_override_the_pipelines_for_that_run_only(
    api, project, version, data
):
    pipeline = post_pipeline(api, project, **training_body(version, data, parameters={"lr": "1"}))
    answer = run_now(api, pipeline.json(), project, {"parameters": {"lr": 0.5, "seed": "7"}})
    assert answer.status_code == 201
    run = Run.objects.get(id=answer.json()["id"])
    assert run.parameters == {
        "artifacts_directory": "artifacts",
        "save_training_data": "false",
        "lr": "0.5",
        "seed": "7",
    }
    assert Pipeline.objects.get().parameters["lr"] == "1"
    again = Run.objects.get(id=run_now(api, pipeline.json(), project).json()["id"])
    assert again.parameters["lr"] == "1" and "seed" not in again.parameters


def test_a_run_started_with_a_form_body_takes_its_parameters_field(api, project, version, data):
    pipeline = post_pipeline(api, project, **training_body(version, data)).json()
    url = f"/api/v1/projects/{project.id}/pipelines/{pipeline['id']}/runs"
    plain = api.post(url)  # an empty form: the pipeline's own parameters
    assert Run.objects.get(id=plain.json()["id"]).parameters["save_training_data"] == "false"
    chosen = api.post(url, {"parameters": json.dumps({"save_training_data": "true"})})
    assert Run.objects.get(id=chosen.json()["id"]).parameters["save_training_data"] == "true"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"not a name": "1"}, "'not a name' is not a valid variable name."),
        ({"artifacts_directory": "../out"}, "artifacts_directory must be a relative folder"),
        ({"artifacts_directory": "package"}, "artifacts_directory 'package' is reserved"),
        ({"artifacts_directory": "."}, "artifacts_directory '.' is reserved"),
        ({"save_training_data": "maybe"}, "save_training_data must be true or false."),
        (["lr"], "Parameters must be an object of names and values."),
        ({"lr": None}, "lr must be a string or a number."),
        ({"lr": {"value": 1}}, "lr must be a string or a number."),
        ({"lr": "0\x005"}, "lr must be a string or a number."),
    ],
)
def test_a_bad_parameter_override_is_refused_and_starts_nothing(
    api, project, version, data, parameters, message
):
    pipeline = post_pipeline(api, project, **training_body(version, data)).json()
    answer = run_now(api, pipeline, project, {"parameters": parameters})
    assert answer.status_code == 400
    assert error_fields(answer)["parameters"].startswith(message)
    assert Run.objects.count() == 1
