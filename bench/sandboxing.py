"""1. What the run's sandbox adds: runs on workers with RUN_SANDBOX=on against off, and
bubblewrap's start alone."""

import contextlib
import subprocess
from collections.abc import Callable
from pathlib import Path

from bench.environments import run_seconds
from bench.measure import Row, Target, paired
from bench.runs import finished
from bench.service import Bench

# The queue of the workers started with RUN_SANDBOX=off; the sandboxed ones serve the default.
UNSANDBOXED = "aicenter-unsandboxed"
BENCHMARK = "1 run overhead"
ADDED = "sandbox: sandboxed minus unsandboxed run, on the worker"
SANDBOX_TARGET = Target("median", 0.05, "< 50 ms")
SANDBOX_REPEATS = 20


def sandbox_rows(bench: Bench, sandboxed_folder: Path, start: Callable[[], int]) -> list[Row]:
    """`start` starts a run and returns its id; the warm sandboxed workers of
    `sandboxed_folder` serve it."""
    confined, unconfined = alternated(bench, sandboxed_folder, start)

    def on_against_off(measure: str, of) -> Row:
        on, off = [of(run) for run in confined], [of(run) for run in unconfined]
        return Row(BENCHMARK, f"{measure}, RUN_SANDBOX=on", "s", on, "RUN_SANDBOX=off", off)

    # The run's own time on its worker: the broker's poll (0 to 100 ms) would only add noise.
    whole = on_against_off("training run of flowers-stdlib on its worker", run_seconds)
    added = [on - off for on, off in zip(whole.samples, whole.baseline_samples, strict=True)]
    return [
        whole,
        Row(BENCHMARK, ADDED, "s", added, target=SANDBOX_TARGET),
        on_against_off("call of the package to its first output", until_output),
    ]


def alternated(bench: Bench, sandboxed_folder: Path, start) -> tuple[list, list]:
    """Sandboxed and unsandboxed runs, in turns. Workers with RUN_SANDBOX=off on the same
    folder, so on the same built environment, take the latter on a queue of their own."""
    with bench.workers(
        "unsandboxed",
        RUN_SANDBOX="off",
        Q_CLUSTER_NAME=UNSANDBOXED,
        AICENTER_WORKER_DIR=sandboxed_folder,
        # Unconfined, a root worker's RUN_AS_USER must reach the worker's Python and the
        # bench's private folder itself; it runs the code as the worker instead.
        RUN_AS_USER="",
    ):
        # Two at once, so that each process of the new workers likely runs one before the timings.
        check_ran(unsandboxed(start, 2), "unsandboxed", sandboxed=False)
        check_ran(finished([start()]), sandboxed_folder.name, sandboxed=True)
        confined, unconfined = [], []
        paired(
            bench.repeats(SANDBOX_REPEATS),
            lambda: None,
            lambda: confined.extend(finished([start()])),
            lambda: unconfined.extend(unsandboxed(start)),
        )
    return confined, unconfined


def until_output(run) -> float:
    """From the call of the package to its first line of output, as the run's log records it:
    the sandbox's start without the worker's 0.2 s tick, which the whole run is rounded to."""
    lines = list(run.log_lines.order_by("n"))
    called = next(line.time for line in lines if line.text.startswith("Calling the "))
    printed = next(line.time for line in lines if line.stream == "stdout")
    return (printed - called).total_seconds()


def unsandboxed(start: Callable[[], int], count: int = 1) -> list:
    with queued_on(UNSANDBOXED):
        return finished([start() for _ in range(count)])


@contextlib.contextmanager
def queued_on(cluster: str):
    """Tasks queued meanwhile go to the workers started with Q_CLUSTER_NAME=`cluster`:
    django-q2 takes the cluster's name for the queue's."""
    from django_q.conf import Conf

    default, Conf.CLUSTER_NAME = Conf.CLUSTER_NAME, cluster
    try:
        yield
    finally:
        Conf.CLUSTER_NAME = default


def check_ran(runs: list, worker: str, sandboxed: bool) -> None:
    """Each run ran on the workers named `worker`, in the sandbox or not as meant; else the
    rows would lie."""
    from pipelines.runner.sandbox import NOT_ISOLATED

    for run in runs:
        unconfined = run.log_lines.filter(text=NOT_ISOLATED).exists()
        host = run.worker.rpartition(":")[0]  # host:pid
        if host != worker or unconfined == sandboxed:
            how = "unsandboxed" if unconfined else "sandboxed"
            raise RuntimeError(f"Run {run.id} ran {how} on {host!r}, meant for {worker!r}.")


def bubblewrap_alone(bench: Bench) -> Row:
    """/bin/true in a run's sandbox (no folders bound) against /bin/true alone."""
    from pipelines.runner import sandbox
    from pipelines.runner.workspace import run_user

    user = run_user()

    def confined() -> None:
        command = sandbox.confine(
            ["/bin/true"], cwd=Path("/"), writable=[], read_only=[], user=user
        )
        subprocess.run(command, check=True)

    inside, alone = paired(
        bench.repeats(20), lambda: None, confined, lambda: subprocess.run(["/bin/true"], check=True)
    )
    measure = "bubblewrap alone: /bin/true in the sandbox"
    return Row(BENCHMARK, measure, "s", inside, "/bin/true alone", alone)
