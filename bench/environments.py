"""2. Environment reuse: the second run of a package with scikit-learn against the first."""

import shutil

from bench.measure import Row, Target
from bench.runs import api_client, example_package, flowers, run_through_api
from bench.service import Bench

REUSE_TARGET = Target("ratio", 0.1, "< 10% of the first")


def reuse(bench: Bench) -> list[Row]:
    project = bench.project("Environments")
    data = flowers(bench, project)
    version = example_package(bench, project, "flowers-sklearn")
    api = api_client(bench)
    firsts, seconds = [], []
    with bench.workers("environments") as worker:
        for _ in range(bench.repeats(3)):
            shutil.rmtree(worker / "envs", ignore_errors=True)  # as on a new worker
            firsts.append(run_through_api(api, project, version, data))
            seconds.append(run_through_api(api, project, version, data))

    def second_against_first(measure: str, of, target=None) -> Row:
        return Row(
            "2 environment reuse",
            f"{measure}, second run of flowers-sklearn",
            "s",
            [of(run) for run in seconds],
            "first run",
            [of(run) for run in firsts],
            target,
        )

    return [
        second_against_first("time on the environment", environment_seconds, REUSE_TARGET),
        second_against_first("whole run", run_seconds),
    ]


def environment_seconds(run) -> float:
    """From the end of staging to the call of the package: the environment step, as logged."""
    lines = run.log_lines.filter(stream="system").order_by("n")
    staged = [line.time for line in lines if line.text.startswith("Staged ")][-1]
    called = next(line.time for line in lines if line.text.startswith("Calling the "))
    return (called - staged).total_seconds()


def run_seconds(run) -> float:
    return (run.ended_at - run.started_at).total_seconds()
