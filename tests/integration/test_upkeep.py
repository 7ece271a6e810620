"""A worker's disk stays in bounds with real workers: its blob cache within its cap while
runs come and go, and a killed worker's workspaces gone when it starts again."""

import os
import time
from pathlib import Path

import pytest

from pipelines.models import Run, Status
from tests.integration.conftest import wait_for
from tests.integration.test_runs import FAST, FINISHED, create_pipeline
from tests.pipelines.builders import dataset_with, package_version_with

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Reads its data after a pause, long enough for the next run to stage and evict meanwhile.
CHECKS_ITS_DATA = """\
import os, time
from pathlib import Path

class Main:
    def train(self, training_directory):
        time.sleep(float(os.environ["pause"]))
        files = sorted(Path(training_directory).rglob("*.csv"))
        if len(files) != FILES:
            raise SystemExit(f"{len(files)} files instead of {FILES}")
        for path in files:
            text = path.read_text()
            if len(text) != FILE_BYTES or not text.startswith(os.environ["expected"]):
                raise SystemExit(f"{path.name} is not what was staged")

    def save(self):
        pass
"""
FILES, FILE_BYTES = 3, 400
RUNS = 20


def data_of(project, number: int):
    prefix = f"dataset {number} "
    return dataset_with(
        project,
        f"data-{number}",
        {
            f"f{k}.csv": (prefix + f"file {k} ").ljust(FILE_BYTES, ".").encode()
            for k in range(FILES)
        },
    )


def cache_bytes(worker_dir: Path) -> int:
    """The cache's size now; a blob evicted between listing and measuring counts nothing."""
    return sum(
        size_or_nothing(Path(top) / name)
        for top, _, names in os.walk(worker_dir / "blobs")
        for name in names
    )


def size_or_nothing(path: Path) -> int:
    try:
        return path.lstat().st_size
    except FileNotFoundError:
        return 0


def test_eviction_keeps_the_cache_within_its_cap_and_never_breaks_a_running_run(
    workers, api, project, owner, tmp_path
):
    cap = FILES * FILE_BYTES + 100  # one run's data: each staging evicts the others'
    workers.start(WORKER_CACHE_MAX_BYTES=cap, **FAST)
    train_py = CHECKS_ITS_DATA.replace("FILES", str(FILES)).replace("FILE_BYTES", str(FILE_BYTES))
    version = package_version_with(project, owner, train_py)
    run_ids = []
    for number in range(RUNS):
        pipeline = create_pipeline(
            api,
            project,
            version,
            name=f"p{number}",
            input_dataset=data_of(project, number).id,
            parameters={"pause": "1", "expected": f"dataset {number} "},
        )
        run_ids.append(pipeline["runs"][0]["id"])

    largest, overlapped = 0, False
    deadline = time.monotonic() + 240
    while Run.objects.filter(id__in=run_ids).exclude(status__in=FINISHED).exists():
        assert time.monotonic() < deadline, "the runs did not finish in time"
        largest = max(largest, cache_bytes(tmp_path / "host-a"))
        overlapped |= Run.objects.filter(id__in=run_ids, status=Status.RUNNING).count() == 2
        time.sleep(0.05)

    runs = Run.objects.filter(id__in=run_ids)
    assert {run.status for run in runs} == {Status.SUCCESSFUL}, [run.error for run in runs]
    assert overlapped, "no two runs ran at once: nothing was evicted under a running run"
    assert 0 < largest <= cap
    assert cache_bytes(tmp_path / "host-a") <= cap


LINGERS = """\
import time

class Main:
    def train(self, training_directory):
        time.sleep(120)

    def save(self):
        pass
"""


def test_a_killed_workers_workspace_is_removed_when_it_starts_again(
    workers, api, project, owner, tmp_path
):
    runs_folder = tmp_path / "host-a" / "runs"
    worker = workers.start(**FAST)
    version = package_version_with(project, owner, LINGERS)
    data = dataset_with(project, "d", {"a.csv": b"1"})
    create_pipeline(api, project, version, input_dataset=data.id)
    wait_for(lambda: list(runs_folder.glob("*/home")), what="the run's workspace")
    workers.kill(worker)
    assert list(runs_folder.iterdir())

    workers.start(**FAST)
    wait_for(lambda: not list(runs_folder.iterdir()), what="the lost workspace to go")
