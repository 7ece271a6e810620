"""A fresh folder per run on the worker, removed when the run ends."""

import json
import os
import pwd
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aicenter.env import private_dir

# A result is a score or an error with a short traceback; anything larger is not the harness's.
RESULT_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RunUser:
    """The unprivileged account the user's code runs as when the worker is root."""

    name: str
    uid: int
    gid: int


def run_user() -> RunUser | None:
    """RUN_AS_USER when the worker runs as root; None when the code runs as the worker."""
    if os.geteuid() != 0 or not settings.RUN_AS_USER:
        return None
    try:
        entry = pwd.getpwnam(settings.RUN_AS_USER)
    except KeyError:
        raise ImproperlyConfigured(
            f"RUN_AS_USER names no user of this worker: {settings.RUN_AS_USER!r}."
        ) from None
    return RunUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


# What the service keeps at a workspace's root: the run's package and data, and its own
# folders and files. A run's artifacts folder is none of them and in none of them, so
# what is published as artifacts is only what the code wrote for that purpose.
RESERVED_NAMES = (
    "package",
    "data",
    "test_data",
    "home",
    "tmp",
    "split",
    "out",
    "spec.json",
    "harness.py",
    "tracking-endpoint.py",
)


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def create(cls, run_id: int) -> "Workspace":
        root = Path(settings.WORKER_DIR) / "runs" / f"{run_id}-{uuid.uuid4().hex[:8]}"
        workspace = cls(root)
        for folder in [
            workspace.package,
            workspace.data,
            workspace.test_data,
            workspace.home,
            workspace.tmp,
            workspace.training_split,
            workspace.evaluation_split,
            workspace.result.parent,
        ]:
            folder.mkdir(parents=True)
        workspace.metrics.touch()
        return workspace

    def hand_over(self, user: RunUser | None, artifacts: Path) -> None:
        """Give the user's code the folders it writes to; the workspace root stays the worker's.

        The staged data are hard links into the worker's blob cache: their folders
        change owner, the files never do, so the cache stays read-only to the code.
        """
        if user is None:
            return
        close_worker_folders()
        for folder in self.writable:
            give(folder, user, with_files=True)
        # The artifacts folder may be any folder of the workspace, the data's included.
        for folder in [self.data, self.test_data, artifacts]:
            if folder != self.root:
                give(folder, user, with_files=False)

    def read_result(self) -> dict:
        """What the harness wrote; a link or other non-file planted in its place is ignored."""
        try:
            handle = os.open(self.result, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return {}
        with os.fdopen(handle) as result:
            found = os.fstat(handle)
            if not stat.S_ISREG(found.st_mode) or found.st_size > RESULT_MAX_BYTES:
                return {}
            return json.loads(result.read() or "{}")

    @property
    def writable(self) -> list[Path]:
        """What the run's code may write, beside its artifacts folder."""
        return [self.package, self.home, self.tmp, self.root / "split", self.result.parent]

    @property
    def readable(self) -> list[Path]:
        """What the run's code may only read: its data, the harness and its instructions."""
        return [self.data, self.test_data, self.root / "harness.py", self.tracking, self.spec]

    @property
    def package(self) -> Path:
        return self.root / "package"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def test_data(self) -> Path:
        return self.root / "test_data"

    @property
    def training_split(self) -> Path:
        return self.root / "split" / "training"

    @property
    def evaluation_split(self) -> Path:
        return self.root / "split" / "evaluation"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def spec(self) -> Path:
        return self.root / "spec.json"

    @property
    def result(self) -> Path:
        return self.root / "out" / "result.json"

    @property
    def metrics(self) -> Path:
        """The file the run's code appends its metrics to (`metrics_file`)."""
        return self.root / "out" / "metrics.jsonl"

    @property
    def logged(self) -> Path:
        """Where MLflow's calls leave the parameters and tags they log."""
        return self.root / "out" / "logged.jsonl"

    @property
    def tracking(self) -> Path:
        """The tracking endpoint's code, beside the harness. Its name is no module's: the
        harness's folder is on the code's sys.path, and `import tracking` stays the code's."""
        return self.root / "tracking-endpoint.py"

    def inside(self, relative: str) -> Path:
        """A path the user named, which must stay inside the workspace."""
        path = (self.root / relative).resolve()
        if path != self.root and self.root.resolve() not in path.parents:
            raise ValueError(f"{relative!r} leaves the run's workspace.")
        return path

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def workspaces_here() -> dict[Path, int]:
    """Every run workspace on this worker, with the id of its run."""
    try:
        entries = list(os.scandir(Path(settings.WORKER_DIR) / "runs"))
    except FileNotFoundError:
        return {}
    found = {}
    for entry in entries:
        run_id, _, _ = entry.name.partition("-")
        if run_id.isdigit() and entry.is_dir(follow_symlinks=False):
            found[Path(entry.path)] = int(run_id)
    return found


def worker_folder(name: str) -> Path:
    """A folder of the worker's own, made if missing and private to the worker's account:
    what the worker writes for itself stays in the data folder, never in the account's home
    or the system's temporary folder."""
    return private_dir(Path(settings.WORKER_DIR) / name)


def close_worker_folders() -> None:
    """The blob cache is closed to the user's code (its data are hard links, read through
    the workspace), and the runs' folder cannot be listed to find another run's workspace."""
    worker = Path(settings.WORKER_DIR)
    (worker / "blobs").mkdir(parents=True, exist_ok=True)
    (worker / "blobs").chmod(0o700)
    (worker / "runs").chmod(0o711)


def give(folder: Path, user: RunUser, with_files: bool) -> None:
    """Chown a folder, its sub-folders and (with_files) its files, never following links."""
    os.chown(folder, user.uid, user.gid, follow_symlinks=False)
    for top, folders, files in os.walk(folder, followlinks=False):
        names = folders + files if with_files else folders
        for name in names:
            os.chown(Path(top) / name, user.uid, user.gid, follow_symlinks=False)
