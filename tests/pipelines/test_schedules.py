"""A pipeline owns its django-q2 schedule: made, changed and removed with it; what a fire does."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from aicenter.models import Event, EventKind
from pipelines.definitions import delete_pipeline, update_pipeline
from pipelines.models import Overlap, Pipeline, ScheduleKind, Status
from pipelines.schedules import fire
from tests.factories import api_client
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    post_pipeline,
    training_body,
    training_pipeline,
)


@pytest.fixture
def version(project, owner):
    return example_version(project, owner)


@pytest.fixture
def data(project):
    return dataset_with(project, "reviews", {"train/a.csv": b"x\n1\n"})


def recurring(project, owner, version, data, **fields) -> Pipeline:
    fields = {"schedule_kind": ScheduleKind.RECURRING, "interval_minutes": 60, **fields}
    return training_pipeline(project, owner, version, data, **fields)


def post(owner, project, body: dict):
    return post_pipeline(api_client(owner), project, body)


def body(version, data, schedule: dict) -> dict:
    return training_body(version, data, schedule=schedule)


def test_a_pipeline_run_once_later_gets_a_one_off_schedule_and_no_run(
    project, owner, version, data
):
    at = timezone.now() + timedelta(hours=5)
    response = post(owner, project, body(version, data, {"kind": "once", "at": at.isoformat()}))
    assert response.status_code == 201
    pipeline = Pipeline.objects.get()
    assert pipeline.schedule.schedule_type == Schedule.ONCE
    assert pipeline.schedule.next_run == at
    assert pipeline.schedule.func == "pipelines.tasks.fire_schedule"
    assert response.json()["runs"] == []
    assert response.json()["schedule"] == {
        "kind": "once",
        "at": at.isoformat(),
        "next": at.isoformat(),
    }


def test_a_cron_schedule_fires_next_at_the_expressions_next_time(project, owner, version, data):
    response = post(
        owner, project, body(version, data, {"kind": "recurring", "cron": "30 3 * * *"})
    )
    schedule = Pipeline.objects.get().schedule
    assert schedule.schedule_type == Schedule.CRON
    assert (schedule.next_run.hour, schedule.next_run.minute) == (3, 30)
    assert timezone.now() < schedule.next_run <= timezone.now() + timedelta(days=1)
    assert response.json()["schedule"]["next"] == schedule.next_run.isoformat()


def test_an_interval_schedule_waits_for_its_start(project, owner, version, data):
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    schedule = {"kind": "recurring", "every": "6h", "start": start.isoformat()}
    response = post(owner, project, body(version, data, schedule))
    pipeline = Pipeline.objects.get()
    assert pipeline.interval_minutes == 360
    assert pipeline.schedule.minutes == 360
    assert pipeline.schedule.next_run == start
    assert response.json()["schedule"]["every"] == "6h"
    assert pipeline.schedule_summary.startswith("every 6 hours from ")


def test_changing_a_schedule_replaces_it_and_removing_the_pipeline_removes_it(
    project, owner, version, data
):
    pipeline = recurring(project, owner, version, data)
    first = pipeline.schedule_id
    update_pipeline(
        pipeline,
        {
            "name": "nightly",
            "type": "training",
            "package_version": version,
            "input_dataset": data,
            "schedule_kind": ScheduleKind.RECURRING,
            "cron": "0 4 * * 1",
        },
        owner,
    )
    assert not Schedule.objects.filter(id=first).exists()
    assert Schedule.objects.get(name=f"pipeline-{pipeline.id}").cron == "0 4 * * 1"
    delete_pipeline(pipeline, owner)
    assert not Schedule.objects.filter(func="pipelines.tasks.fire_schedule").exists()


def test_editing_to_no_schedule_drops_it_and_starts_nothing(project, owner, version, data):
    pipeline = recurring(project, owner, version, data)
    update_pipeline(pipeline, {**definition(version, data), "schedule_kind": "now"}, owner)
    pipeline.refresh_from_db()
    assert pipeline.schedule is None
    assert not pipeline.runs.exists()


def definition(version, data) -> dict:
    return {
        "name": "nightly",
        "type": "training",
        "package_version": version,
        "input_dataset": data,
        "parameters": {},
    }


def test_a_fire_starts_a_run_of_the_definition(project, owner, version, data):
    pipeline = recurring(project, owner, version, data)
    run = fire(pipeline.id)
    assert run.pipeline == pipeline
    assert run.status == Status.SCHEDULED


def test_a_fire_while_the_previous_run_goes_is_skipped_and_recorded(project, owner, version, data):
    pipeline = recurring(project, owner, version, data)
    going = fire(pipeline.id)
    assert fire(pipeline.id) is None
    assert list(pipeline.runs.all()) == [going]
    skip = Event.objects.get(kind=EventKind.SCHEDULE_SKIPPED)
    assert skip.message == (
        f"nightly: a scheduled run was skipped because run #{going.id} is still scheduled."
    )


def test_a_pipeline_may_queue_a_run_instead_of_skipping(project, owner, version, data):
    pipeline = recurring(project, owner, version, data, on_overlap=Overlap.QUEUE)
    fire(pipeline.id)
    fire(pipeline.id)
    assert pipeline.runs.count() == 2
    assert not Event.objects.filter(kind=EventKind.SCHEDULE_SKIPPED).exists()


def test_a_fire_after_the_end_removes_the_schedule(project, owner, version, data):
    end = timezone.now() + timedelta(minutes=5)
    pipeline = recurring(project, owner, version, data, ends_at=end)
    Pipeline.objects.filter(id=pipeline.id).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert fire(pipeline.id) is None
    assert not Schedule.objects.filter(name=f"pipeline-{pipeline.id}").exists()
    assert not pipeline.runs.exists()


def test_the_next_fire_is_hidden_past_the_end(project, owner, version, data):
    end = timezone.now() + timedelta(minutes=30)
    pipeline = recurring(project, owner, version, data, ends_at=end)
    assert pipeline.next_fire is None
    pipeline = recurring(
        project, owner, version, data, name="often", interval_minutes=10, ends_at=end
    )
    assert pipeline.next_fire == pipeline.schedule.next_run


# django-q2's scheduler closes the database connection, which a test transaction cannot survive.
@pytest.mark.django_db(transaction=True)
def test_missed_fires_are_not_caught_up_after_downtime(project, owner, version, data):
    pipeline = recurring(project, owner, version, data, interval_minutes=1)
    Schedule.objects.filter(id=pipeline.schedule_id).update(
        next_run=timezone.now() - timedelta(hours=3)
    )
    scheduler()
    # Catching up would step through the missed hours one minute at a time.
    assert Schedule.objects.get(id=pipeline.schedule_id).next_run > timezone.now()


def test_a_schedule_that_outlived_its_pipeline_removes_itself(project, owner, version, data):
    pipeline = recurring(project, owner, version, data)
    version.package.delete()
    assert Schedule.objects.filter(name=f"pipeline-{pipeline.id}").exists()
    assert fire(pipeline.id) is None
    assert not Schedule.objects.filter(name=f"pipeline-{pipeline.id}").exists()
