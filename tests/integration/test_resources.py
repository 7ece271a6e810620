"""A run's limits hold on a real worker: memory, cores and workspace disk, each enforced in
the run alone while the worker and its other runs go on."""

import pytest

from pipelines.models import Run, Status
from pipelines.runner import cgroups
from tests.integration.conftest import wait_for
from tests.integration.test_runs import FAST, finished, started_run
from tests.pipelines.builders import dataset_with, package_version_with

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
needs_cgroups = pytest.mark.skipif(
    isinstance(cgroups.worker_hierarchy(), cgroups.Unusable),
    reason="no control group this worker can use",
)

GREEDY = """\
import os, time

class Main:
    def train(self, training_directory):
        size = int(os.environ["megabytes"]) * 1024 * 1024
        held = bytearray(size)
        for start in range(0, size, 4096):
            held[start] = 1  # every page touched, so it is really used
        time.sleep(float(os.environ.get("pause", "0")))
        print("held", len(held), flush=True)

    def save(self):
        pass
"""

COUNTING = """\
import json, os, time

class Main:
    def train(self, training_directory):
        seen = {name: os.environ.get(name) for name in
                ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "NUMEXPR_NUM_THREADS"]}
        print(json.dumps(seen), flush=True)
        print("sleeping", flush=True)
        time.sleep(4)

    def save(self):
        pass
"""

WRITING = """\
import os, time
from pathlib import Path

class Main:
    def train(self, training_directory):
        out = Path(os.environ["artifacts_directory"], "big.bin")
        with out.open("wb") as file:
            for _ in range(int(os.environ["megabytes"])):
                file.write(os.urandom(1024 * 1024))
                file.flush()
                time.sleep(0.05)
        print("wrote", out.stat().st_size, flush=True)

    def save(self):
        pass
"""


def texts(run: Run) -> list[str]:
    return list(run.log_lines.order_by("n").values_list("text", flat=True))


@needs_cgroups
def test_a_run_past_its_memory_fails_saying_so_while_another_succeeds(
    workers, api, project, owner, flowers
):
    workers.start(**FAST)
    version = package_version_with(project, owner, GREEDY)
    greedy = started_run(
        api,
        project,
        version,
        name="greedy",
        input_dataset=flowers.id,
        parameters={"megabytes": "600"},
        resources={"memory_gb": 0.25},
    )
    modest = started_run(
        api,
        project,
        version,
        name="modest",
        input_dataset=flowers.id,
        parameters={"megabytes": "50", "pause": "2"},
        resources={"memory_gb": 0.25},
    )
    failed, succeeded = finished(greedy), finished(modest)
    assert failed.status == Status.FAILED
    assert failed.error == "Out of memory: the run used more than 0.25 GB, its limit."
    assert succeeded.status == Status.SUCCESSFUL, succeeded.error
    assert f"held {50 * 1024 * 1024}" in texts(succeeded)


@needs_cgroups
def test_a_run_of_one_core_has_its_quota_and_tells_numeric_libraries(
    workers, api, project, owner, flowers
):
    workers.start(**FAST)
    version = package_version_with(project, owner, COUNTING)
    run_id = started_run(api, project, version, input_dataset=flowers.id, resources={"cpus": 1})
    wait_for(
        lambda: Run.objects.get(id=run_id).log_lines.filter(text="sleeping").exists(),
        what="the run to start",
    )
    hierarchy = cgroups.worker_hierarchy()
    quota = quota_of(hierarchy, run_id)
    run = finished(run_id)
    assert run.status == Status.SUCCESSFUL, run.error
    assert quota == "100000 100000" if hierarchy.version == 2 else quota == "100000"
    lines = texts(run)
    assert '{"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", ' in (
        "".join(lines)
    )
    assert any(line.startswith("Limits: ") and "1 core" in line for line in lines[:4])


def quota_of(hierarchy: cgroups.Hierarchy, run_id: int) -> str:
    """The CPU quota of the run's group, read from outside while the run goes."""
    if hierarchy.version == 2:
        folder, name = hierarchy.parents["unified"], "cpu.max"
    else:
        folder, name = hierarchy.parents["cpu"], "cpu.cfs_quota_us"
    (group,) = folder.glob(f"run-{run_id}-*")
    return (group / name).read_text().strip()


def test_a_run_writing_past_its_disk_fails_and_its_staged_data_do_not_count(
    workers, api, project, owner
):
    workers.start(**FAST)
    data = dataset_with(project, "large", {"train/blob.bin": b"\x01" * (12 * 1024 * 1024)})
    version = package_version_with(project, owner, WRITING)
    limited = {"input_dataset": data.id, "resources": {"disk_gb": 0.01}}  # about 10 MB
    writer = started_run(
        api, project, version, name="writer", parameters={"megabytes": "60"}, **limited
    )
    reader = started_run(
        api, project, version, name="reader", parameters={"megabytes": "1"}, **limited
    )
    over, within = finished(writer), finished(reader)
    assert over.status == Status.FAILED
    assert over.error == (
        "Out of disk: the run wrote more than 0.01 GB to its workspace, its limit."
    )
    assert within.status == Status.SUCCESSFUL, within.error


SEEING_GPUS = """\
import os, time

class Main:
    def train(self, training_directory):
        print("devices", os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
        time.sleep(3)  # both runs hold their GPU at once

    def save(self):
        pass
"""


def test_runs_on_one_gpu_worker_at_once_each_get_a_device_of_their_own(
    workers, api, project, owner, flowers, settings
):
    workers.start(**FAST, Q_CLUSTER_NAME=settings.GPU_CLUSTER, GPU_WORKERS=2, GPU_DEVICES="0,1")
    version = package_version_with(project, owner, SEEING_GPUS)
    ids = [
        started_run(api, project, version, name=name, input_dataset=flowers.id, gpu=True)
        for name in ["first", "second"]
    ]
    runs = [finished(run_id) for run_id in ids]
    assert [run.status for run in runs] == [Status.SUCCESSFUL] * 2, [run.error for run in runs]
    seen = {line for run in runs for line in texts(run) if line.startswith("devices ")}
    assert seen == {"devices 0", "devices 1"}
    starts = sorted(run.started_at for run in runs)
    ends = sorted(run.ended_at for run in runs)
    assert starts[1] < ends[0]  # they overlapped
