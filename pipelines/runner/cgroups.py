"""Control groups that hold a run's processes, with its memory, CPU time and processes limited.

cgroup v2 where the worker may make groups below its own with the memory controller; v1's
memory hierarchy otherwise (with cpu and pids where mounted), which root may write on hosts
that mount the v1 controllers. A worker that can use neither says why (Unusable), and each
run's log then says which limits are not enforced.

A run's processes enter its group before anything of the run starts: a small shell writes
its own pid into the group and then becomes the run's command, so nothing forks outside.
"""

import contextlib
import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_noop

from aicenter.wording import said_of, say, together

MOUNT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
PERIOD_US = 100_000
WANTED = ("memory", "cpu", "pids")
# The folder below the worker's own group that holds its runs' groups.
RUNS = "aicenter-runs"
JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
EMPTY_WAIT = 3.0
# A group this old and empty was left by a worker that died; a younger one may be about to
# take its run's first process.
STALE_AFTER = 600
# Why a worker has no control group to use, said in each run's log line on its limits.
UNREADABLE = gettext_noop("the worker's control groups cannot be read (%(error)s)")
NO_V2 = gettext_noop("no cgroup v2 hierarchy")
NO_V2_MEMORY = gettext_noop("cgroup v2 offers no memory controller in %(folder)s")
NO_V2_CONTROLLERS = gettext_noop("cgroup v2 offers no %(controllers)s controller in %(folder)s")
V2_NOT_WRITABLE = gettext_noop("cgroup v2 groups cannot be made below %(folder)s (%(error)s)")
NO_V1 = gettext_noop("no writable cgroup v1 memory hierarchy")
EITHER = gettext_noop("%(some)s; %(other)s")


class Unusable(Exception):
    """No control group this worker can use; the message says why."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    cpus: int
    pids: int


@dataclass(frozen=True)
class Group:
    """One run's group: a folder per hierarchy (one in v2, one per controller in v1)."""

    version: int
    folders: dict[str, Path]  # controller -> folder; v2's one folder is "unified"

    def apply(self, limits: Limits) -> None:
        files = V2_FILES if self.version == 2 else V1_FILES
        for controller, folder in self.folders.items():
            for name, value in files.get(controller, lambda _: {})(limits).items():
                if name in OPTIONAL and not (folder / name).exists():
                    continue  # no swap accounting on this host: nothing to swap to
                (folder / name).write_text(value)

    @property
    def procs_files(self) -> list[Path]:
        return sorted({folder / "cgroup.procs" for folder in self.folders.values()})

    def join(self, command: list[str]) -> list[str]:
        """`command`, started inside the group."""
        files = [str(path) for path in self.procs_files]
        return ["/bin/sh", "-c", JOIN, "cgroup-join", *files, "--", *command]

    def add(self, pid: int) -> None:
        for path in self.procs_files:
            path.write_text(str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the group for going over its memory."""
        folder = self.folders.get("unified" if self.version == 2 else "memory")
        if folder is None:
            return False
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        return counter(folder / name, "oom_kill") > 0

    def remove(self) -> None:
        """Every process left in the group is killed, then the group goes."""
        for folder in self.folders.values():
            with contextlib.suppress(OSError):
                empty(folder)
                folder.rmdir()


def memory_v2(limits: Limits) -> dict[str, str]:
    return {"memory.max": str(limits.memory_bytes), "memory.swap.max": "0"}


def memory_v1(limits: Limits) -> dict[str, str]:
    # memsw (memory and swap) may not be below the memory limit: memory first.
    return {
        "memory.limit_in_bytes": str(limits.memory_bytes),
        "memory.memsw.limit_in_bytes": str(limits.memory_bytes),
    }


V2_FILES = {
    "unified": lambda limits: {
        **memory_v2(limits),
        "cpu.max": f"{limits.cpus * PERIOD_US} {PERIOD_US}",
        "pids.max": str(limits.pids),
    }
}
V1_FILES = {
    "memory": memory_v1,
    "cpu": lambda limits: {
        "cpu.cfs_period_us": str(PERIOD_US),
        "cpu.cfs_quota_us": str(limits.cpus * PERIOD_US),
    },
    "pids": lambda limits: {"pids.max": str(limits.pids)},
}
OPTIONAL = {"memory.swap.max", "memory.memsw.limit_in_bytes"}


def counter(path: Path, name: str) -> int:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return 0


def empty(folder: Path) -> None:
    """Kill what is in the group until nothing is (processes take a moment to go)."""
    if (folder / "cgroup.kill").exists():
        (folder / "cgroup.kill").write_text("1")
    deadline = time.monotonic() + EMPTY_WAIT
    while pids := members(folder):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)


def members(folder: Path) -> list[int]:
    try:
        return [int(line) for line in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


@dataclass(frozen=True)
class Hierarchy:
    """Where this worker makes its runs' groups."""

    version: int
    parents: dict[str, Path]  # controller -> the folder holding the runs' groups

    @property
    def controllers(self) -> list[str]:
        if self.version == 2:
            return list(WANTED)
        return [controller for controller in WANTED if controller in self.parents]

    def create(self, name: str, limits: Limits) -> Group:
        unique = f"{name}-{uuid.uuid4().hex[:8]}"
        folders = {controller: parent / unique for controller, parent in self.parents.items()}
        for folder in folders.values():
            folder.mkdir()
        group = Group(self.version, folders)
        try:
            group.apply(limits)
        except OSError:
            group.remove()
            raise
        return group


def own_groups(proc_cgroup: Path) -> dict[str, str]:
    """This process's group in each hierarchy: "" names v2's, "memory" v1's memory one..."""
    groups = {}
    for line in proc_cgroup.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


def find(mount: Path = MOUNT, proc_cgroup: Path = PROC_CGROUP) -> Hierarchy:
    """The hierarchy to use, v2 first; Unusable says why neither can be used."""
    try:
        groups = own_groups(proc_cgroup)
    except (OSError, ValueError) as error:
        raise Unusable(say(UNREADABLE, error=str(error))) from None
    reasons = []
    for attempt in (find_v2, find_v1):
        try:
            return attempt(mount, groups)
        except Unusable as reason:
            reasons.append(said_of(reason) or str(reason))
    raise Unusable(together(reasons, EITHER))


def find_v2(mount: Path, groups: dict[str, str]) -> Hierarchy:
    root = mount if (mount / "cgroup.controllers").exists() else mount / "unified"
    if "" not in groups or not (root / "cgroup.controllers").exists():
        raise Unusable(say(NO_V2))
    own = root / groups[""].lstrip("/")
    offered = (own / "cgroup.controllers").read_text().split()
    if "memory" not in offered:
        raise Unusable(say(NO_V2_MEMORY, folder=str(own)))
    missing = [controller for controller in WANTED if controller not in offered]
    if missing:
        raise Unusable(say(NO_V2_CONTROLLERS, controllers=", ".join(missing), folder=str(own)))
    enable = " ".join(f"+{controller}" for controller in WANTED)
    try:
        (own / "cgroup.subtree_control").write_text(enable)
        (own / RUNS).mkdir(exist_ok=True)
        (own / RUNS / "cgroup.subtree_control").write_text(enable)
    except OSError as error:
        raise Unusable(say(V2_NOT_WRITABLE, folder=str(own), error=str(error))) from None
    sweep(own / RUNS)
    return Hierarchy(2, {"unified": own / RUNS})


def find_v1(mount: Path, groups: dict[str, str]) -> Hierarchy:
    parents = {}
    for controller in WANTED:
        own = mount / controller / groups.get(controller, "/").lstrip("/")
        if controller not in groups or not (own / "tasks").exists():
            continue
        with contextlib.suppress(OSError):
            (own / RUNS).mkdir(exist_ok=True)
            # Made by another account (a root worker on the same machine): not ours to use.
            if os.access(own / RUNS, os.W_OK | os.X_OK):
                parents[controller] = own / RUNS
                sweep(own / RUNS)
    if "memory" not in parents:
        raise Unusable(say(NO_V1))
    return Hierarchy(1, parents)


def sweep(parent: Path) -> None:
    """Remove the groups that dead workers left, empty; a group with processes stays."""
    for group in parent.iterdir():
        with contextlib.suppress(OSError):
            if group.is_dir() and time.time() - group.stat().st_mtime > STALE_AFTER:
                group.rmdir()  # the kernel refuses while a process is in it


@functools.cache
def worker_hierarchy() -> Hierarchy | Unusable:
    """This worker's hierarchy, found once; the reason when there is none."""
    try:
        return find()
    except Unusable as reason:
        return reason
