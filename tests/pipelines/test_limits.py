"""What a run's log says of its limits, and what counts against its workspace disk."""

import os

import pytest

from pipelines.resources import Resources
from pipelines.runner import cgroups, limits
from pipelines.runner.limits import DiskWatch

MB = 1024**2


@pytest.fixture
def without_cgroups(monkeypatch):
    reason = cgroups.Unusable("no cgroup v2 hierarchy; no writable cgroup v1 memory hierarchy")
    monkeypatch.setattr(cgroups, "worker_hierarchy", lambda: reason)


def test_the_log_says_which_limits_a_worker_without_cgroups_does_not_enforce(without_cgroups):
    line = str(limits.summary(Resources(cpus=2, memory_gb=4, disk_gb=None, gpus=0)))
    assert line == (
        "Limits: no disk cap; 2 cores told to numeric libraries. Not enforced on this worker: "
        "memory (4 GB), CPU (2 cores) and the number of processes, as it has no control "
        "group it can use (no cgroup v2 hierarchy; no writable cgroup v1 memory hierarchy)."
    )


def test_the_log_names_the_limits_a_v1_worker_enforces(monkeypatch, settings, tmp_path):
    settings.RUN_PIDS = 512
    hierarchy = cgroups.Hierarchy(1, {"memory": tmp_path, "cpu": tmp_path})
    monkeypatch.setattr(cgroups, "worker_hierarchy", lambda: hierarchy)
    line = str(limits.summary(Resources(cpus=1, memory_gb=0.5, disk_gb=10, gpus=0)))
    assert line == (
        "Limits: 0.5 GB of memory, 1 core (cgroup v1), 10 GB of workspace disk (watched). "
        "Not enforced on this worker: pids (no such controller)."
    )


def test_the_thread_variables_name_the_runs_cores():
    assert limits.thread_variables(3) == {
        "OMP_NUM_THREADS": "3",
        "MKL_NUM_THREADS": "3",
        "OPENBLAS_NUM_THREADS": "3",
        "NUMEXPR_NUM_THREADS": "3",
    }


def test_the_disk_counts_what_the_run_wrote_once_and_not_its_staged_data(tmp_path):
    cache, data, package, tmp = (tmp_path / name for name in ["cache", "data", "package", "tmp"])
    for folder in [cache, data, package, tmp]:
        folder.mkdir()
    (cache / "blob").write_bytes(os.urandom(3 * MB))
    os.link(cache / "blob", data / "staged.csv")  # as staging links the cache's blobs
    (package / "model.bin").write_bytes(os.urandom(2 * MB))
    os.link(package / "model.bin", tmp / "again.bin")  # one file, however many names
    watch = DiskWatch(folders=[package, tmp, data / "out"], staged=[data], limit=3 * MB)
    watch.start()
    assert 2 * MB <= watch.used() < 2 * MB + 64 * 1024
    assert not watch.exceeded()
    (tmp / "more.bin").write_bytes(os.urandom(2 * MB))
    assert watch.exceeded()


def test_without_a_disk_limit_nothing_is_counted(tmp_path):
    assert not DiskWatch(folders=[tmp_path], staged=[], limit=None).exceeded()
