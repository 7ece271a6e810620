"""A pipeline's schedule: the django-q2 Schedule it owns, and what each fire does."""

from datetime import datetime, timedelta

from croniter import croniter
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_q.models import Schedule

from aicenter.models import EventKind, record_event
from aicenter.wording import say
from pipelines.models import Overlap, Pipeline, Run, ScheduleKind, Status
from pipelines.start import start_run

FIRE = "pipelines.tasks.fire_schedule"
# A fire skipped while the previous run goes, by the status of that run.
SKIPPED = {
    Status.SCHEDULED: gettext_noop(
        "%(pipeline)s: a scheduled run was skipped because run #%(run)s is still scheduled."
    ),
    Status.PACKAGING: gettext_noop(
        "%(pipeline)s: a scheduled run was skipped because run #%(run)s is still packaging."
    ),
    Status.RUNNING: gettext_noop(
        "%(pipeline)s: a scheduled run was skipped because run #%(run)s is still running."
    ),
}


def sync_schedule(pipeline: Pipeline) -> None:
    """Give the pipeline a schedule that matches its definition, replacing any earlier one."""
    earlier = pipeline.schedule
    pipeline.schedule = new_schedule(pipeline)
    pipeline.save(update_fields=["schedule"])
    if earlier is not None:
        earlier.delete()


def new_schedule(pipeline: Pipeline) -> Schedule | None:
    fields = {"name": schedule_name(pipeline.id), "func": FIRE, "args": str(pipeline.id)}
    if pipeline.schedule_kind == ScheduleKind.ONCE:
        # A negative repeat count makes django-q2 delete a one-off schedule once it fired.
        fields.update(schedule_type=Schedule.ONCE, next_run=pipeline.run_at, repeats=-1)
    elif pipeline.schedule_kind == ScheduleKind.RECURRING and pipeline.cron:
        fields.update(schedule_type=Schedule.CRON, cron=pipeline.cron)
        fields["next_run"] = croniter(pipeline.cron, first_moment(pipeline)).get_next(datetime)
    elif pipeline.schedule_kind == ScheduleKind.RECURRING:
        interval = timedelta(minutes=pipeline.interval_minutes)
        fields.update(schedule_type=Schedule.MINUTES, minutes=pipeline.interval_minutes)
        fields["next_run"] = pipeline.starts_at or timezone.now() + interval
        if fields["next_run"] < timezone.now():
            fields["next_run"] = timezone.now() + interval
    else:
        return None
    return Schedule.objects.create(**fields)


def schedule_name(pipeline_id: int) -> str:
    return f"pipeline-{pipeline_id}"


def first_moment(pipeline: Pipeline) -> datetime:
    now = timezone.now()
    return max(pipeline.starts_at, now) if pipeline.starts_at else now


def drop_schedule(pipeline: Pipeline) -> None:
    if pipeline.schedule_id is not None:
        Schedule.objects.filter(id=pipeline.schedule_id).delete()


def fire(pipeline_id: int) -> Run | None:
    """One fire of a pipeline's schedule: a new run, unless the previous one is still going."""
    with transaction.atomic():
        pipeline = Pipeline.objects.select_for_update().filter(id=pipeline_id).first()
        if pipeline is None:
            # Gone with its package: the schedule outlived it.
            Schedule.objects.filter(name=schedule_name(pipeline_id)).delete()
            return None
        if pipeline.ends_at and timezone.now() > pipeline.ends_at:
            drop_schedule(pipeline)
            return None
        going = pipeline.runs.active().first()
        if going is not None and pipeline.on_overlap == Overlap.SKIP:
            record_skip(pipeline, going)
            return None
        return start_run(pipeline)


def record_skip(pipeline: Pipeline, going: Run) -> None:
    message = say(SKIPPED[going.status], pipeline=pipeline.name, run=going.id)
    link = pipeline.get_absolute_url()
    record_event(pipeline.project_id, EventKind.SCHEDULE_SKIPPED, message, link=link)
