"""1. What enforcing a run's limits adds: its control group made, joined and removed, and its
workspace's disk counted; and whether two runs of one core each share a 2-core worker well."""

import os
import subprocess
import sys
from pathlib import Path

from bench.measure import Row, Target, paired
from bench.service import Bench

BENCHMARK = "1 run overhead"
LIMITS_TARGET = Target("median", 0.05, "< 50 ms")
SHARING_TARGET = Target("ratio", 1.0, "<= 1")
STAGED_FILES = 1000
# About a second of one core's work in Python, the same for every run.
BUSY = "total = 0\nfor n in range(15_000_000):\n    total += n\n"


def limits(bench: Bench) -> list[Row]:
    from pipelines.runner import cgroups

    rows = enforcing(bench)
    if isinstance(cgroups.worker_hierarchy(), cgroups.Hierarchy):
        rows.append(sharing(bench))
    return rows


def enforcing(bench: Bench) -> list[Row]:
    """/bin/true under a run's limits (a disk cap included, over 1,000 staged files) against
    /bin/true alone: what a run pays once for its limits, beside its sandbox."""
    workspace = workspace_with_staged_data(bench.scratch("limits"))
    run_ids = iter(range(1, 10_000))
    limited, alone = paired(
        bench.repeats(20),
        lambda: None,
        lambda: under_limits(workspace, next(run_ids)),
        lambda: subprocess.run(["/bin/true"], check=True),
    )
    added = [with_limits - without for with_limits, without in zip(limited, alone, strict=True)]
    return [
        Row(BENCHMARK, "limits: /bin/true in a run's limits", "s", limited, "/bin/true", alone),
        Row(BENCHMARK, "limits: added per run", "s", added, target=LIMITS_TARGET),
    ]


def under_limits(workspace: Path, run_id: int) -> None:
    from pipelines.resources import Resources
    from pipelines.runner.limits import DiskWatch, RunLimits

    disk = DiskWatch([workspace / "package"], [workspace / "data"], limit=10 * 1024**3)
    run_limits = RunLimits(Resources(cpus=1, memory_gb=4, disk_gb=10, gpus=0), disk)
    with run_limits.held(run_id):
        subprocess.run(run_limits.wrap(["/bin/true"]), check=True)
        assert run_limits.over() is None  # the runner counts the disk once a second


def workspace_with_staged_data(folder: Path) -> Path:
    (folder / "package").mkdir(exist_ok=True)
    data = folder / "data"
    data.mkdir(exist_ok=True)
    for index in range(STAGED_FILES):
        (data / f"{index}.csv").write_bytes(os.urandom(1024))
    return folder


def sharing(bench: Bench) -> Row:
    """Two CPU-bound runs of one core each at once, against the same two one after the other."""
    from pipelines.runner import cgroups

    hierarchy = cgroups.worker_hierarchy()

    def start() -> subprocess.Popen:
        group = hierarchy.create("bench", cgroups.Limits(1024**3, cpus=1, pids=64))
        process = subprocess.Popen(group.join([sys.executable, "-c", BUSY]))
        process.group = group
        return process

    def finish(process: subprocess.Popen) -> None:
        process.wait()
        process.group.remove()

    def together() -> None:
        for process in [start(), start()]:
            finish(process)

    def in_turn() -> None:
        finish(start())
        finish(start())

    at_once, one_after_other = paired(bench.repeats(3), lambda: None, together, in_turn)
    return Row(
        BENCHMARK,
        "limits: two CPU-bound runs of 1 core each, at once",
        "s",
        at_once,
        "one after the other",
        one_after_other,
        target=SHARING_TARGET,
    )
