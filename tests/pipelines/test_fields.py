"""The definition's fields are listed once: the model, the form, define(), the copy onto runs,
the Create Pipeline screen and the API all follow pipelines/fields.py's DEFINITION."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pipelines import fields
from pipelines.api import PIPELINE_BODY, form_data, pipeline_data
from pipelines.fields import Field, Group, definition_fields, groups, top_fields
from pipelines.forms import PipelineForm
from pipelines.models import Overlap, Pipeline, Run, ScheduleKind
from pipelines.schemas import PipelineOut
from pipelines.screen import initial_definition
from pipelines.start import run_again, start_run
from tests.factories import api_client
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    training_body,
    training_pipeline,
)

# Pipeline's fields that no form sets: who owns it, its django-q2 schedule, its bookkeeping.
NOT_DEFINED = {"id", "project", "schedule", "created_at", "created_by", "latest_run"}
# What a run shares with its pipeline but takes otherwise: project_id, and the parameters and
# resources with their defaults, are passed by start.queue_run itself.
RESOURCES = {"cpus", "memory_gb", "disk_gb", "gpus"}
NOT_COPIED = {"id", "project", "parameters", "created_at", *RESOURCES}
LATER = timezone.now() + timedelta(days=3)
SCHEDULES = [
    {"schedule_kind": ScheduleKind.NOW},
    {"schedule_kind": ScheduleKind.ONCE, "run_at": LATER},
    {"schedule_kind": ScheduleKind.RECURRING, "cron": "0 3 * * *", "ends_at": LATER},
    {"schedule_kind": ScheduleKind.RECURRING, "interval_minutes": 360, "on_overlap": "queue"},
]


@pytest.fixture
def make(project, owner):
    """Makes pipelines of the example package reading a dataset's train/ and test/ folders."""
    version = example_version(project, owner)
    data = dataset_with(project, "reviews", {"train/a.csv": b"x\n1\n", "test/b.csv": b"x\n2\n"})

    made = iter(range(1, 1000))

    def pipeline_with(**changes) -> Pipeline:
        definition = {
            "name": f"nightly-{next(made)}",  # names are unique in a project
            "input_path": "train",
            "evaluation_dataset": data,
            "evaluation_path": "test",
            "gpus": 1,
            "memory_gb": 2.5,
            "timeout": 600,
            **changes,
        }
        return training_pipeline(project, owner, version, data, **definition)

    return pipeline_with


def body_like(pipeline: Pipeline, **changes) -> dict:
    """The API's body for a pipeline of the same package version and dataset."""
    return training_body(pipeline.package_version, pipeline.input_dataset, **changes)


def answer_of(owner, pipeline: Pipeline) -> dict:
    url = f"/api/v1/projects/{pipeline.project_id}/pipelines/{pipeline.id}"
    return api_client(owner).get(url).json()


def answer_names(pipeline: Pipeline, fields_of: list[Field]) -> set[str]:
    """The keys of the API's answer that show those of `fields_of` the list answers."""
    names = set()
    for field in fields_of:
        if field.answered(pipeline):
            names |= set(field.made_from) if field.name == "package_version" else {field.api_name}
    return names


def test_the_list_holds_every_field_of_pipeline_that_a_form_defines():
    names = [field.name for field in definition_fields()]
    assert len(names) == len(set(names))
    assert set(names) == {field.name for field in Pipeline._meta.concrete_fields} - NOT_DEFINED


def test_the_form_has_exactly_the_fields_the_list_is_cleaned_from():
    names = [name for field in definition_fields() for name in field.form_names]
    assert sorted(names) == sorted(PipelineForm.base_fields)


def test_a_valid_form_cleans_every_field_of_the_list(project, make):
    schedule = {"kind": "recurring", "every": "6h", "overlap": "queue"}
    body = body_like(make(), name="another", input_path="train", schedule=schedule)
    form = PipelineForm(project, form_data(json.dumps(body).encode()))
    assert form.is_valid(), form.errors
    assert {field.name for field in definition_fields()} <= set(form.cleaned_data)
    assert form.cleaned_data["interval_minutes"] == 360


def test_define_gives_an_empty_field_the_model_fields_default(make):
    pipeline = make(timeout="", on_overlap=None, parameters=None)
    assert pipeline.timeout is None
    assert pipeline.on_overlap == Overlap.SKIP
    assert pipeline.parameters == {}


def test_a_run_copies_into_its_own_fields_what_the_list_says(make):
    pipeline = make()
    run = Run.objects.get(id=start_run(pipeline).id)
    again = Run.objects.get(id=run_again(run).id)
    copied = [field.run for field in definition_fields() if field.run]
    assert {"type", "package_version", "time_limit"} <= set(copied)
    for name in copied:
        assert Run._meta.get_field(name).concrete
        assert getattr(run, name) == getattr(again, name) == getattr(pipeline, name)
    assert run.time_limit == 600
    assert run.resources == again.resources == pipeline.resources
    assert (run.gpus, run.memory_gb, run.cpus) == (1, 2.5, 1)


def test_every_field_a_run_shares_with_its_pipeline_is_copied_or_taken_otherwise():
    shared = {field.name for field in Run._meta.concrete_fields} & {
        field.name for field in Pipeline._meta.concrete_fields
    }
    copied = {field.run for field in definition_fields() if field.run}
    assert shared - copied == NOT_COPIED


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_the_api_answers_exactly_the_fields_the_list_answers(owner, make, schedule):
    pipeline = make(**schedule)
    answer = answer_of(owner, pipeline)
    groups = {group.key for group in fields.groups()}
    top = answer_names(pipeline, fields.top_fields())
    assert set(answer) == {"id", *top, *groups, "gpu", "created_at", "runs"}
    scheduled = pipeline.schedule_kind != ScheduleKind.NOW
    for group in fields.groups():
        next_fire = {"next"} if group.key == "schedule" and scheduled else set()
        assert set(answer[group.key]) == answer_names(pipeline, group.fields) | next_fire


def test_each_field_is_answered_for_some_schedule_but_the_timeout(make):
    pipelines = [make(**changes) for changes in SCHEDULES]
    answered = {field.name for field in definition_fields() for p in pipelines if field.answered(p)}
    assert {field.name for field in definition_fields()} - answered == {"timeout"}


def test_a_body_shaped_as_api_md_reaches_every_field_of_the_form(make):
    pipeline = make()
    schedule = {
        "kind": "recurring",
        "at": LATER.isoformat(),
        "cron": "0 3 * * *",
        "every": "6h",
        "start": LATER.isoformat(),
        "end": LATER.isoformat(),
        "overlap": "queue",
    }
    body = body_like(
        pipeline,
        input_path="train",
        evaluation_dataset=pipeline.evaluation_dataset_id,
        evaluation_path="test",
        parameters={"epochs": "2"},
        gpu=True,
        network=False,
        timeout=60,
        schedule=schedule,
        resources={"cpus": 2, "memory_gb": 4, "disk_gb": 10, "gpus": 0},
    )
    assert set(form_data(json.dumps(body).encode())) == set(PipelineForm.base_fields)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_the_screen_starts_an_edit_with_every_field_of_the_form(make, schedule):
    values, _ = initial_definition(make(**schedule))
    assert set(values) == set(PipelineForm.base_fields)


def test_the_openapi_body_names_the_forms_fields_and_each_group_as_one_object():
    schema = PIPELINE_BODY["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["name", "type", "package", "version"]
    assert schema["properties"] == {
        "name": {"type": "string"},
        "type": {"enum": ["training", "evaluation", "full"]},
        "package": {"type": "integer"},
        "version": {"type": "string"},
        "input_dataset": {"type": "integer"},
        "input_path": {"type": "string"},
        "evaluation_dataset": {"type": "integer"},
        "evaluation_path": {"type": "string"},
        "parameters": {"type": "object"},
        "network": {"type": "boolean"},
        "timeout": {"type": "integer"},
        "schedule": {"type": "object"},
        "resources": {
            "type": "object",
            "properties": {
                "cpus": {"type": "integer"},
                "memory_gb": {"type": "number"},
                "disk_gb": {"type": "number"},
                "gpus": {"type": "integer"},
            },
            "description": "What each run may use; a field left out takes the service's default.",
        },
        "gpu": {"type": "boolean", "description": "true: one GPU (resources.gpus 1)."},
    }


def test_a_field_added_to_the_list_is_copied_onto_runs_and_answered(monkeypatch, owner, make):
    pipeline = make()
    yesterday = timezone.now() - timedelta(days=1)
    Pipeline.objects.filter(id=pipeline.id).update(created_at=yesterday)
    pipeline.refresh_from_db()
    added = Field("created_at", key="defined_at", run="created_at")
    limits = Group("limits", (Field("network", key="internet", run="network"),))
    monkeypatch.setattr(fields, "DEFINITION", (*fields.DEFINITION, added, limits))

    run = Run.objects.get(id=start_run(pipeline).id)
    assert run.created_at == yesterday
    # What the API serialises; its schema must then declare the field (the test below).
    answer = pipeline_data(pipeline, [])
    assert answer["defined_at"] == yesterday.isoformat()
    assert answer["limits"] == {"internet": False}
    body = body_like(pipeline, network=True, limits={"internet": False})
    assert form_data(json.dumps(body).encode())["network"] is False
    assert "created_at" in initial_definition(pipeline)[0]


def test_the_answers_schema_declares_every_field_the_list_answers(make):
    pipeline = make()
    answered = answer_names(pipeline, top_fields()) | {group.key for group in groups()}
    assert answered <= set(PipelineOut.model_fields)
    assert set(answer_of(pipeline.created_by, pipeline)) == set(PipelineOut.model_fields)
