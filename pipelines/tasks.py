"""Task entry points: they receive ids and hand over to the runner."""

from pipelines.reaper import reap_lost_runs, requeue_stranded_runs
from pipelines.runner.run import run_pipeline
from pipelines.schedules import fire


def execute_run(run_id: int) -> None:
    run_pipeline(run_id)


def reap_runs() -> int:
    return reap_lost_runs() + requeue_stranded_runs()


def fire_schedule(pipeline_id: int) -> int | None:
    run = fire(pipeline_id)
    return run.id if run else None
