"""Task entry points: they receive ids and hand over to the runner."""

from pipelines.reaper import reap_lost_runs, requeue_stranded_runs
from pipelines.runner.run import run_pipeline
from pipelines.schedules import fire
from pipelines.upkeep import tidy_host_safely


def execute_run(run_id: int) -> None:
    run_pipeline(run_id)
    tidy_host_safely()


def reap_runs() -> int:
    # Whichever host takes the reaper's task tidies its own folder too.
    tidy_host_safely()
    return reap_lost_runs() + requeue_stranded_runs()


def fire_schedule(pipeline_id: int) -> int | None:
    run = fire(pipeline_id)
    return run.id if run else None
