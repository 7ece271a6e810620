"""Starting runs, of a pipeline or again of an earlier run, and stopping them."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop
from django_q.tasks import async_task

from aicenter.wording import say
from pipelines.fields import definition_fields
from pipelines.models import Pipeline, Run, waiting

GPU_WAIT = gettext_noop("Waiting for a GPU worker (queue %(cluster)s).")


def copied(source: Pipeline | Run) -> dict:
    """What a new run copies from its pipeline, or from an earlier run when it is run again."""
    # Read by the run's names: a pipeline's time_limit is its timeout or the service's.
    names = [Run._meta.get_field(field.run).attname for field in definition_fields() if field.run]
    return {name: getattr(source, name) for name in ["project_id", *names]}


def start_run(pipeline: Pipeline, parameters: dict[str, str] | None = None, user=None) -> Run:
    """A new run of the pipeline's definition, queued once the transaction commits.

    `parameters`, when given, are every parameter of this run alone (RunForm checks them);
    the pipeline keeps its own. `user` is the person who asked for it; None for the schedule.
    """
    parameters = parameters or pipeline.all_parameters
    return queue_run(pipeline, pipeline, pipeline.name, parameters, user)


def run_again(run: Run, user=None) -> Run:
    """A new run of exactly what an earlier run ran, even if its pipeline changed since."""
    return queue_run(run, run.pipeline, run.pipeline_name, run.parameters, user)


def queue_run(
    source: Pipeline | Run, pipeline: Pipeline | None, name: str, parameters, user=None
) -> Run:
    run = Run.objects.create(
        started_by=user,
        pipeline=pipeline,
        pipeline_name=name,
        parameters=parameters,
        **source.resources.as_dict(),
        **waiting(say(GPU_WAIT, cluster=settings.GPU_CLUSTER) if source.gpu else None),
        **copied(source),
    )
    if pipeline is not None:
        Pipeline.objects.filter(id=pipeline.id).update(latest_run=run)
        pipeline.latest_run = run
    transaction.on_commit(lambda: enqueue(run))
    return run


def enqueue(run: Run) -> None:
    options = {"cluster": settings.GPU_CLUSTER} if run.gpu else {}
    async_task("pipelines.tasks.execute_run", run.id, task_name=f"run-{run.id}", **options)
