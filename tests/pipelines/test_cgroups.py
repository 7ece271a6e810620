"""Control groups for runs: the v1 hierarchies of this host for real, v2 in a folder made to
look like one (no v2 controller is enabled here)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.runner import cgroups
from pipelines.runner.cgroups import Limits, Unusable

MB = 1024**2
V1_MEMORY = Path("/sys/fs/cgroup/memory/tasks")
needs_v1 = pytest.mark.skipif(
    os.geteuid() != 0 or not V1_MEMORY.exists(),
    reason="needs root and the cgroup v1 memory hierarchy",
)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def run_in(group, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(group.join(python(code)), capture_output=True, text=True, timeout=60)


@pytest.fixture
def v1_group(request):
    hierarchy = cgroups.find()
    assert hierarchy.version == 1
    limits = getattr(request, "param", Limits(memory_bytes=64 * MB, cpus=1, pids=64))
    group = hierarchy.create("test", limits)
    yield group
    group.remove()


@needs_v1
def test_v1_holds_the_run_under_its_memory_limit_and_says_it_killed_it(v1_group):
    ended = run_in(v1_group, "b = bytearray(300 * 1024 * 1024); print('survived')")
    assert ended.returncode != 0
    assert "survived" not in ended.stdout
    assert v1_group.oom_killed()


@needs_v1
def test_v1_lets_a_run_within_its_limit_finish():
    hierarchy = cgroups.find()
    over = hierarchy.create("over", Limits(memory_bytes=64 * MB, cpus=1, pids=64))
    within = hierarchy.create("within", Limits(memory_bytes=64 * MB, cpus=1, pids=64))
    try:
        assert run_in(over, "b = bytearray(300 * 1024 * 1024)").returncode != 0
        ended = run_in(within, "b = bytearray(8 * 1024 * 1024); print(len(b))")
        assert ended.stdout.strip() == str(8 * MB)
        assert not within.oom_killed()
    finally:
        over.remove()
        within.remove()


@needs_v1
def test_v1_puts_the_command_in_the_group_with_its_cpu_quota(v1_group):
    ended = run_in(v1_group, "print(open('/proc/self/cgroup').read())")
    memory_line = next(line for line in ended.stdout.splitlines() if ":memory:" in line)
    assert memory_line.endswith(v1_group.folders["memory"].name)
    if "cpu" in v1_group.folders:
        assert (v1_group.folders["cpu"] / "cpu.cfs_quota_us").read_text().strip() == "100000"


@needs_v1
def test_v1_limits_the_number_of_processes(v1_group):
    if "pids" not in v1_group.folders:
        pytest.skip("no pids hierarchy")
    code = (
        "import subprocess\n"
        "started = []\n"
        "try:\n"
        "    for _ in range(100):\n"
        "        started.append(subprocess.Popen(['sleep', '5']))\n"
        "except OSError as error:\n"
        "    print('refused', len(started))\n"
        "for process in started:\n"
        "    process.kill()\n"
    )
    assert run_in(v1_group, code).stdout.startswith("refused")


@needs_v1
def test_v1_removing_a_group_ends_what_is_left_in_it():
    group = cgroups.find().create("left", Limits(memory_bytes=64 * MB, cpus=1, pids=64))
    child = subprocess.Popen(group.join(["sleep", "60"]), start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + 10
    # Once it is in every folder of the group: a removal while it still joins is no case of
    # the runner's, which removes a group after its run's first process ended.
    while not all(child.pid in cgroups.members(f) for f in group.folders.values()):
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.01)
    group.remove()
    assert not any(folder.exists() for folder in group.folders.values())
    assert child.wait(timeout=10) != 0


def fake_v2(tmp_path: Path, controllers: str = "cpuset cpu io memory pids") -> tuple[Path, Path]:
    """A v2 mount with the worker in /worker.slice/worker, and its /proc/self/cgroup."""
    mount = tmp_path / "cgroup"
    own = mount / "worker.slice" / "worker"
    own.mkdir(parents=True)
    for folder in [mount, own]:
        (folder / "cgroup.controllers").write_text(controllers + "\n")
        (folder / "cgroup.subtree_control").write_text("")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/worker.slice/worker\n")
    return mount, proc


def test_v2_makes_the_runs_group_below_the_workers_own_with_its_limits(tmp_path):
    mount, proc = fake_v2(tmp_path)
    hierarchy = cgroups.find(mount, proc)
    assert hierarchy.version == 2
    runs = mount / "worker.slice" / "worker" / "aicenter-runs"
    assert (runs / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    group = hierarchy.create("run-7", Limits(memory_bytes=256 * MB, cpus=2, pids=100))
    folder = group.folders["unified"]
    assert folder.parent == runs
    assert (folder / "memory.max").read_text() == str(256 * MB)
    assert (folder / "cpu.max").read_text() == "200000 100000"
    assert (folder / "pids.max").read_text() == "100"
    assert not (folder / "memory.swap.max").exists()  # a host without swap accounting
    assert group.procs_files == [folder / "cgroup.procs"]


def test_v2_reads_an_oom_kill_from_the_groups_events(tmp_path):
    group = cgroups.find(*fake_v2(tmp_path)).create("run-8", Limits(MB, 1, 64))
    events = group.folders["unified"] / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n")
    assert not group.oom_killed()
    events.write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    assert group.oom_killed()


def test_v2_join_writes_the_shells_own_pid_before_the_command_runs(tmp_path):
    group = cgroups.find(*fake_v2(tmp_path)).create("run-9", Limits(MB, 1, 64))
    ended = subprocess.run(group.join(["sh", "-c", "echo $$"]), capture_output=True, text=True)
    procs = group.folders["unified"] / "cgroup.procs"
    assert procs.read_text().strip() == ended.stdout.strip()


def test_without_a_usable_hierarchy_the_reason_names_each_version(tmp_path):
    mount, proc = fake_v2(tmp_path, controllers="cpu io")
    with pytest.raises(Unusable) as refused:
        cgroups.find(mount, proc)
    assert "cgroup v2 offers no memory controller" in str(refused.value)
    assert "no writable cgroup v1 memory hierarchy" in str(refused.value)


def test_groups_left_empty_by_a_dead_worker_go_when_a_worker_starts(tmp_path):
    mount, proc = fake_v2(tmp_path)
    runs = mount / "worker.slice" / "worker" / "aicenter-runs"
    old, young, busy = (runs / name for name in ["run-1-old", "run-2-young", "run-3-busy"])
    for group in [old, young, busy]:
        group.mkdir(parents=True)
    (busy / "cgroup.procs").write_text("4242\n")  # a fake group with a process is not empty
    long_ago = time.time() - 3600
    for group in [old, busy]:
        os.utime(group, (long_ago, long_ago))
    cgroups.find(mount, proc)
    assert not old.exists()
    assert young.exists() and busy.exists()
