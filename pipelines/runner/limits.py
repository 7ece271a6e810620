"""What a run may use of its worker, enforced: memory, CPU and processes through its control
group, its workspace's disk watched by the runner, and numeric libraries told its cores.

Nothing pretends: where the worker has no control group it can use, the run's log says in
its first lines which limits are not enforced.
"""

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop

from aicenter.wording import COMMA, Said, counted, said_of, say, together
from pipelines.resources import CORE, CORES, Resources, gigabytes
from pipelines.runner import cgroups

# Numeric libraries start a thread per core of the machine unless told otherwise.
THREAD_VARIABLES = [
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
]


def thread_variables(cpus: int) -> dict[str, str]:
    return dict.fromkeys(THREAD_VARIABLES, str(cpus))


OUT_OF_MEMORY = gettext_noop("Out of memory: the run used more than %(limit)s, its limit.")
OUT_OF_DISK = gettext_noop(
    "Out of disk: the run wrote more than %(limit)s to its workspace, its limit."
)
UNENFORCED = gettext_noop(
    "Limits: %(disk)s; %(cores)s told to numeric libraries. Not enforced on this worker: "
    "memory (%(memory)s), CPU (%(cores)s) and the number of processes, as it has no control "
    "group it can use (%(why)s)."
)
DISK_WATCHED = gettext_noop("%(amount)s of workspace disk (watched)")
ENFORCED = gettext_noop("Limits: %(held)s (cgroup v%(version)s), %(disk)s.")
PARTLY_ENFORCED = gettext_noop(
    "Limits: %(held)s (cgroup v%(version)s), %(disk)s. Not enforced on this worker: "
    "%(missing)s (no such controller)."
)


def out_of_memory(resources: Resources) -> Said:
    return say(OUT_OF_MEMORY, limit=gigabytes(resources.memory_gb))


def out_of_disk(resources: Resources) -> Said:
    return say(OUT_OF_DISK, limit=gigabytes(resources.disk_gb))


def summary(resources: Resources) -> Said:
    """The run log's line on its limits, and on those this worker cannot enforce."""
    hierarchy = cgroups.worker_hierarchy()
    disk = (
        say(gettext_noop("no disk cap"))
        if resources.disk_gb is None
        else say(DISK_WATCHED, amount=gigabytes(resources.disk_gb))
    )
    cores = counted(resources.cpus, CORE, CORES)
    memory = gigabytes(resources.memory_gb)
    if isinstance(hierarchy, cgroups.Unusable):
        why = said_of(hierarchy) or str(hierarchy)
        return say(UNENFORCED, disk=disk, cores=cores, memory=memory, why=why)
    enforced = {
        "memory": say(gettext_noop("%(amount)s of memory"), amount=memory),
        "cpu": cores,
        "pids": say(gettext_noop("%(count)s processes"), count=settings.RUN_PIDS),
    }
    held = together([enforced[name] for name in hierarchy.controllers], COMMA)
    missing = ", ".join(name for name in enforced if name not in hierarchy.controllers)
    pattern = PARTLY_ENFORCED if missing else ENFORCED
    return say(pattern, held=held, version=hierarchy.version, disk=disk, missing=missing)


@dataclass
class DiskWatch:
    """What the run wrote to its workspace, the staged data (hard links) left out."""

    folders: list[Path]
    staged: list[Path]
    limit: int | None
    _shared: set = field(default_factory=set)

    def start(self) -> None:
        """Staged files are only met in a counted folder inside the data (artifacts may be)."""
        inside = [data for data in self.staged if any(within(f, data) for f in self.folders)]
        if self.limit is not None and inside:
            self._shared = {(found.st_dev, found.st_ino) for found in files_of(inside)}

    def used(self) -> int:
        counted = set(self._shared)
        total = 0
        for found in files_of(self.folders):
            key = (found.st_dev, found.st_ino)
            if key not in counted:
                counted.add(key)
                total += found.st_blocks * 512
        return total

    def exceeded(self) -> bool:
        return self.limit is not None and self.used() > self.limit


def within(folder: Path, top: Path) -> bool:
    return folder == top or top in folder.parents


def files_of(folders: list[Path]):
    """The stat of each folder and of everything below them, links not followed."""
    for folder in folders:
        with contextlib.suppress(OSError):
            yield folder.lstat()
            yield from below(str(folder))


def below(folder: str):
    with os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                yield entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    yield from below(entry.path)


@dataclass
class RunLimits:
    """The limits of one run while it executes."""

    resources: Resources
    disk: DiskWatch
    group: cgroups.Group | None = None

    @contextlib.contextmanager
    def held(self, run_id: int):
        """The run's control group (when the worker has one) for as long as the run goes."""
        hierarchy = cgroups.worker_hierarchy()
        if isinstance(hierarchy, cgroups.Hierarchy):
            limits = cgroups.Limits(
                self.resources.memory_bytes, self.resources.cpus, settings.RUN_PIDS
            )
            self.group = hierarchy.create(f"run-{run_id}", limits)
        self.disk.start()
        try:
            yield self
        finally:
            if self.group is not None:
                self.group.remove()

    def wrap(self, command: list[str]) -> list[str]:
        return self.group.join(command) if self.group else command

    def over(self) -> Said | None:
        """Why the run must stop now, or None."""
        if self.disk.exceeded():
            return out_of_disk(self.resources)
        return None

    def ended_over(self) -> Said | None:
        """Why the run ended, if a limit ended it."""
        if self.group is not None and self.group.oom_killed():
            return out_of_memory(self.resources)
        return None
