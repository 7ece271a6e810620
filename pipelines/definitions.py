"""Creating, changing and removing pipelines, with the schedules they own."""

from django.db import transaction
from django.utils.translation import gettext_noop

from aicenter.models import EventKind, record_event
from aicenter.wording import say
from packages.contract import TYPE_WORDS
from pipelines.fields import definition_fields
from pipelines.models import Pipeline, Run, ScheduleKind
from pipelines.schedules import drop_schedule, sync_schedule
from pipelines.start import queue_run, start_run

# The Activity's lines, worded for each reader.
CREATED = gettext_noop("%(pipeline)s: %(type)s of %(version)s, %(schedule)s.")
CHANGED = gettext_noop("%(pipeline)s: changed, %(schedule)s.")
REMOVED = gettext_noop("%(pipeline)s: removed; its runs and the versions they made stay.")


def define(pipeline: Pipeline, data: dict) -> None:
    """Sets the definition from PipelineForm's cleaned data; an empty field takes its default."""
    for field in definition_fields():
        value = data.get(field.name)
        setattr(pipeline, field.name, field.default if value in (None, "") else value)
    if pipeline.schedule_kind != ScheduleKind.RECURRING:
        pipeline.cron, pipeline.interval_minutes = "", None
        pipeline.starts_at = pipeline.ends_at = None
    if pipeline.schedule_kind != ScheduleKind.ONCE:
        pipeline.run_at = None


@transaction.atomic
def create_pipeline(project, data: dict, user) -> Pipeline:
    pipeline = Pipeline(project=project, created_by=user)
    define(pipeline, data)
    pipeline.save()
    sync_schedule(pipeline)
    record_event(
        project,
        EventKind.PIPELINE_CREATED,
        say(
            CREATED,
            pipeline=pipeline.name,
            type=say(TYPE_WORDS[pipeline.type]),
            version=str(pipeline.package_version),
            schedule=pipeline.schedule_said,
        ),
        user=user,
        link=pipeline.get_absolute_url(),
    )
    if pipeline.schedule_kind == ScheduleKind.NOW:
        start_run(pipeline, user=user)
    return pipeline


@transaction.atomic
def update_pipeline(pipeline: Pipeline, data: dict, user) -> Pipeline:
    """A new definition for the runs to come; runs already made keep what they ran."""
    define(pipeline, data)
    pipeline.save()
    sync_schedule(pipeline)
    record_event(
        pipeline.project_id,
        EventKind.PIPELINE_CHANGED,
        say(CHANGED, pipeline=pipeline.name, schedule=pipeline.schedule_said),
        user=user,
        link=pipeline.get_absolute_url(),
    )
    return pipeline


@transaction.atomic
def delete_pipeline(pipeline: Pipeline, user=None) -> None:
    """Removes the definition and its schedule; its runs and what they made stay."""
    for run in pipeline.runs.active():
        run.request_kill(user)
    drop_schedule(pipeline)
    record_event(
        pipeline.project_id,
        EventKind.PIPELINE_REMOVED,
        say(REMOVED, pipeline=pipeline.name),
        user=user,
    )
    pipeline.delete()


def start_changed_run(pipeline: Pipeline, data: dict, user=None) -> Run:
    """One run of the pipeline as `data` (PipelineForm's cleaned data) defines it, asked for by
    `user`; the pipeline keeps its own definition and schedule, and the run records what it ran."""
    changed = Pipeline(project=pipeline.project)
    define(changed, data)
    return queue_run(changed, pipeline, pipeline.name, changed.all_parameters, user)
