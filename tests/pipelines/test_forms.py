"""Every rule of a pipeline definition, refused alike by the Create Pipeline screen and the API."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from pipelines.forms import check_artifacts_directory
from pipelines.models import Pipeline
from pipelines.runner.workspace import RESERVED_NAMES, Workspace
from tests.factories import api_client
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    package_version_with,
    post_pipeline,
    training_body,
)

TRAIN_ONLY = (
    "class Main:\n    def train(self, d):\n        pass\n    def save(self):\n        pass\n"
)
PAST = "2020-01-01T03:00"
FUTURE = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
LATER = (timezone.now() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M")

# (the API body's changes, the screen's changed fields, the field, the message)
RULES = [
    (
        {"parameters": {"bad name": "1"}},
        {"param_name": ["artifacts_directory", "bad name"], "param_value": ["artifacts", "1"]},
        "parameters",
        "'bad name' is not a valid variable name.",
    ),
    (
        {"parameters": {"artifacts_directory": "../out"}},
        {"param_name": ["artifacts_directory"], "param_value": ["../out"]},
        "parameters",
        "artifacts_directory must be a relative folder inside the run's workspace.",
    ),
    (
        {"parameters": {"artifacts_directory": "./data"}},
        {"param_name": ["artifacts_directory"], "param_value": ["./data"]},
        "parameters",
        "artifacts_directory './data' is reserved: the workspace itself (.) and package, data,",
    ),
    (
        {"parameters": {"save_training_data": "maybe"}},
        {"param_name": ["save_training_data"], "param_value": ["maybe"]},
        "parameters",
        "save_training_data must be true or false.",
    ),
    (
        {"input_dataset": None},
        {"input_dataset": ""},
        "input_dataset",
        "A training pipeline needs an input dataset.",
    ),
    (
        {"input_path": "nowhere"},
        {"input_path": "nowhere"},
        "input_path",
        "reviews/nowhere has no files: choose a folder with data.",
    ),
    (
        {"input_path": "empty"},
        {"input_path": "empty"},
        "input_path",
        "reviews/empty has no files: choose a folder with data.",
    ),
    ({"version": "7.0"}, {"version": "7.0"}, "version", "flowers-stdlib has no version '7.0'."),
    (
        {"type": "evaluation"},
        {"type": "evaluation"},
        "evaluation_dataset",
        "An evaluation pipeline needs an evaluation dataset.",
    ),
    (
        {"schedule": {"kind": "once"}},
        {"schedule_kind": "once"},
        "run_at",
        "Choose when to run it.",
    ),
    (
        {"schedule": {"kind": "once", "at": PAST + "+00:00"}},
        {"schedule_kind": "once", "run_at": PAST},
        "run_at",
        "2020-01-01 03:00 is in the past.",
    ),
    (
        {"schedule": {"kind": "recurring", "cron": "every night"}},
        {"schedule_kind": "recurring", "repeat": "cron", "cron": "every night"},
        "cron",
        "'every night' is not a cron expression: it needs five fields",
    ),
    (
        {"schedule": {"kind": "recurring", "cron": "0 3 * * * *"}},
        {"schedule_kind": "recurring", "repeat": "cron", "cron": "0 3 * * * *"},
        "cron",
        "'0 3 * * * *' is not a cron expression",
    ),
    (
        {"schedule": {"kind": "recurring", "cron": "61 3 * * *"}},
        {"schedule_kind": "recurring", "repeat": "cron", "cron": "61 3 * * *"},
        "cron",
        "'61 3 * * *' is not a cron expression",
    ),
    (
        {"schedule": {"kind": "recurring", "every": "often"}},
        {"schedule_kind": "recurring", "repeat": "interval", "every": "often"},
        "every",
        "Give the interval as a whole number of minutes, hours, days or weeks.",
    ),
    (
        {"schedule": {"kind": "recurring", "every": "4w"}},
        {"schedule_kind": "recurring", "repeat": "interval", "every": "4", "unit": "weeks"},
        "every",
        "An interval can be at most 22 days; use a cron expression for rarer runs.",
    ),
    (
        {"schedule": {"kind": "recurring", "every": "1d", "end": PAST + "+00:00"}},
        {"schedule_kind": "recurring", "every": "1", "unit": "days", "ends_at": PAST},
        "ends_at",
        "2020-01-01 03:00 is in the past.",
    ),
    (
        {"schedule": {"kind": "recurring", "every": "1d", "start": LATER, "end": FUTURE}},
        {
            "schedule_kind": "recurring",
            "every": "1",
            "unit": "days",
            "starts_at": LATER,
            "ends_at": FUTURE,
        },
        "ends_at",
        "The end must come after the start.",
    ),
    (
        {"timeout": 10**12},
        {"timeout": str(10**12)},
        "timeout",
        "A timeout can be at most 21600 seconds, the service's RUN_TIMEOUT.",
    ),
    (
        {"schedule": {"kind": "sometimes"}},
        {"schedule_kind": "sometimes"},
        "schedule_kind",
        "Select a valid choice.",
    ),
]


@pytest.fixture
def version(project, owner):
    return example_version(project, owner)


@pytest.fixture
def data(project):
    dataset = dataset_with(project, "reviews", {"train/a.csv": b"x\n1\n", "test/b.csv": b"x\n"})
    dataset.folders.create(path="empty")
    return dataset


def api_body(version, data, changes: dict) -> dict:
    return training_body(version, data, **{"input_path": "train", **changes})


def screen_fields(version, data, changes: dict) -> dict:
    fields = {
        "name": "nightly",
        "type": "training",
        "package": version.package_id,
        "major": version.major,
        "version": version.label,
        "input_dataset": data.id,
        "input_path": "train",
        "param_name": ["artifacts_directory", "save_training_data"],
        "param_value": ["artifacts", "false"],
        "schedule_kind": "now",
    }
    return {**fields, **changes}


def post_api(user, project, body: dict):
    return post_pipeline(api_client(user), project, body)


@pytest.mark.parametrize(("api_changes", "screen_changes", "field", "message"), RULES)
def test_the_api_refuses_a_bad_definition_next_to_its_field(
    project, owner, version, data, api_changes, screen_changes, field, message
):
    response = post_api(owner, project, api_body(version, data, api_changes))
    assert response.status_code == 400
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert message in errors[field]
    assert not Pipeline.objects.exists()


@pytest.mark.parametrize(("api_changes", "screen_changes", "field", "message"), RULES)
def test_the_screen_refuses_a_bad_definition_next_to_its_field(
    project, owner_client, version, data, api_changes, screen_changes, field, message
):
    url = reverse("pipelines:create", args=[project.id])
    response = owner_client.post(url, screen_fields(version, data, screen_changes))
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert message.replace("'", "&#x27;") in response.text
    assert not Pipeline.objects.exists()


def test_a_version_lacking_the_types_methods_is_refused_alike(project, owner, owner_client, data):
    version = package_version_with(project, owner, TRAIN_ONLY)
    changes = {"type": "evaluation", "evaluation_dataset": data.id}
    message = "custom 1.0 cannot run evaluation pipelines: they need evaluate in train.py's Main."
    api_response = post_api(owner, project, api_body(version, data, changes))
    assert api_response.json()["errors"] == [{"field": "version", "message": message}]
    url = reverse("pipelines:create", args=[project.id])
    screen_response = owner_client.post(url, screen_fields(version, data, changes))
    assert screen_response.context["form"].errors["version"] == [message]


def test_the_screen_keeps_the_definition_after_a_refusal(project, owner_client, version, data):
    fields = screen_fields(version, data, {"param_name": ["epochs"], "param_value": ["five"]})
    fields["schedule_kind"] = "recurring"
    fields.update(repeat="cron", cron="nonsense")
    response = owner_client.post(reverse("pipelines:create", args=[project.id]), fields)
    assert response.status_code == 400
    assert [(row.name, row.value) for row in response.context["rows"]] == [("epochs", "five")]
    assert 'value="nonsense"' in response.text


RESERVED_SPELLINGS = [".", "./", "data", "./data", "data/", "data/out", "test_data", "package"]
RESERVED_SPELLINGS += ["package/src", "home", "tmp/x", "split/training", "out", "out/models"]


@pytest.mark.parametrize("value", RESERVED_SPELLINGS)
def test_artifacts_directory_is_none_of_the_workspace_folders_the_run_is_given(value):
    with pytest.raises(ValidationError) as refused:
        check_artifacts_directory(value)
    (message,) = refused.value.messages
    assert message.startswith(f"artifacts_directory {value!r} is reserved:")
    assert "package, data, test_data, home, tmp, split, out" in message


@pytest.mark.parametrize("value", ["package/../data", "../data", "/data"])
def test_artifacts_directory_never_leaves_or_climbs_the_workspace(value):
    with pytest.raises(ValidationError, match="must be a relative folder inside"):
        check_artifacts_directory(value)


@pytest.mark.parametrize("value", ["artifacts", "results", "models/out", "artifacts/data"])
def test_artifacts_directory_may_be_a_folder_of_its_own(value):
    check_artifacts_directory(value)


def test_every_folder_a_workspace_starts_with_is_reserved(settings, tmp_path):
    settings.WORKER_DIR = str(tmp_path)
    workspace = Workspace.create(1)
    made = sorted(path.name for path in workspace.root.iterdir())
    assert set(made) <= set(RESERVED_NAMES), made
    assert {workspace.spec.name, workspace.result.parent.name} <= set(RESERVED_NAMES)


def test_a_timeout_may_reach_the_services_run_timeout_and_no_further(
    project, owner, version, data, settings
):
    settings.RUN_TIMEOUT = 3600
    refused = post_api(owner, project, api_body(version, data, {"timeout": 3601}))
    assert refused.json()["errors"] == [
        {
            "field": "timeout",
            "message": "A timeout can be at most 3600 seconds, the service's RUN_TIMEOUT.",
        }
    ]
    accepted = post_api(owner, project, api_body(version, data, {"timeout": 3600}))
    assert accepted.status_code == 201
    assert Pipeline.objects.get().time_limit == 3600


NO_NETWORK = (
    "Runs on this service have no network (RUN_NETWORK=off). The operator may set "
    "RUN_NETWORK=gate to give runs that ask for it HTTPS to the Internet."
)


def test_a_pipeline_asking_for_the_network_is_refused_where_runs_have_none(
    project, owner, owner_client, version, data, settings
):
    settings.RUN_NETWORK = "off"
    answer = post_api(owner, project, api_body(version, data, {"network": True}))
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "network", "message": NO_NETWORK}]
    url = reverse("pipelines:create", args=[project.id])
    screen = owner_client.post(url, screen_fields(version, data, {"network": "on"}))
    assert screen.context["form"].errors["network"] == [NO_NETWORK]
    assert not Pipeline.objects.exists()


@pytest.mark.parametrize("network", ["gate", "host"])
def test_a_pipeline_may_ask_for_the_network_where_the_operator_gives_it(
    project, owner, version, data, settings, network
):
    settings.RUN_NETWORK = network
    answer = post_api(owner, project, api_body(version, data, {"network": True}))
    assert answer.status_code == 201, answer.json()
    assert answer.json()["network"] is True
    assert Pipeline.objects.get().runs.get().network is True


def test_a_name_taken_in_the_project_is_refused_alike(project, owner, owner_client, version, data):
    post_api(owner, project, api_body(version, data, {}))
    message = "The project already has a pipeline named nightly."
    api_response = post_api(owner, project, api_body(version, data, {}))
    assert api_response.json()["errors"] == [{"field": "name", "message": message}]
    url = reverse("pipelines:create", args=[project.id])
    screen_response = owner_client.post(url, screen_fields(version, data, {}))
    assert screen_response.context["form"].errors["name"] == [message]
    assert Pipeline.objects.count() == 1


def test_a_pipeline_keeps_its_own_name_when_changed_but_takes_no_other(
    project, owner, owner_client, version, data
):
    post_api(owner, project, api_body(version, data, {"name": "weekly"}))
    nightly = post_api(owner, project, api_body(version, data, {})).json()
    url = f"/api/v1/projects/{project.id}/pipelines/{nightly['id']}"
    client = api_client(owner)
    kept = client.put(url, api_body(version, data, {"gpu": True}), content_type="application/json")
    assert kept.status_code == 200
    taken = client.put(url, api_body(version, data, {"name": "weekly"}), "application/json")
    assert taken.json()["errors"][0]["field"] == "name"
    edit = reverse("pipelines:edit", args=[project.id, nightly["id"]])
    assert owner_client.post(edit, screen_fields(version, data, {})).status_code == 302
    refused = owner_client.post(edit, screen_fields(version, data, {"name": "weekly"}))
    assert "already has a pipeline named weekly" in refused.text


def test_a_parameters_error_is_shown_on_its_own_row(project, owner_client, version, data):
    names = ["artifacts_directory", "bad name", "epochs"]
    fields = screen_fields(version, data, {"param_name": names, "param_value": ["out", "1", "2"]})
    response = owner_client.post(reverse("pipelines:create", args=[project.id]), fields)
    rows = {row.name: row.errors for row in response.context["rows"]}
    assert rows == {
        "artifacts_directory": [],
        "bad name": ["'bad name' is not a valid variable name."],
        "epochs": [],
    }
    assert response.context["parameter_errors"] == []
    row = response.text.split('value="bad name"')[1].split("</tr>")[0]
    assert "is not a valid variable name." in row


def test_create_pipeline_from_a_version_is_filled_with_that_version(
    project, owner, owner_client, version
):
    upload = reverse("packages:version", args=[project.id, version.package_id, version.label])
    create = reverse("pipelines:create", args=[project.id])
    link = f"{create}?package={version.package_id}&amp;version=1.0"
    assert link in owner_client.get(upload).text
    screen = owner_client.get(f"{create}?package={version.package_id}&version=1.0")
    assert screen.context["choices"].package == version.package
    assert screen.context["choices"].version == "1.0"


def test_running_again_with_changes_starts_one_run_and_leaves_the_pipeline(
    project, owner, owner_client, version, data
):
    pipeline_id = post_api(owner, project, api_body(version, data, {})).json()["id"]
    pipeline = Pipeline.objects.get(id=pipeline_id)
    run = pipeline.runs.get()
    url = reverse("pipelines:run-change", args=[project.id, run.id])
    screen = owner_client.get(url)
    assert screen.context["values"]["input_path"] == "train"
    assert [(row.name, row.value) for row in screen.context["rows"]] == list(run.parameters.items())
    names = ["artifacts_directory", "save_training_data", "epochs"]
    changes = {"param_name": names, "param_value": ["artifacts", "false", "9"]}
    response = owner_client.post(url, screen_fields(version, data, changes))
    again = pipeline.runs.exclude(id=run.id).get()
    assert response.url == again.get_absolute_url()
    assert again.parameters["epochs"] == "9"
    assert again.started_by == owner
    pipeline.refresh_from_db()
    assert "epochs" not in pipeline.all_parameters
