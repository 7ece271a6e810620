"""The GPUs of a worker host, each held by one run at a time.

A host knows its GPUs from GPU_DEVICES ("0,1", as CUDA numbers them) or from `nvidia-smi
-L`. The runs of all the worker processes of a host claim them in one file of the worker
folder, under a lock; a claim whose process is gone (a worker that died) is free again.
"""

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop

from aicenter.wording import Said, counted, say
from pipelines.resources import GPUS, ONE_GPU

LISTED = re.compile(r"^GPU (\d+):", re.MULTILINE)
WAIT_EVERY = 1.0


class GpusUnavailable(Exception):
    """The run needs more GPUs than this worker has."""


class KilledWhileWaiting(Exception):
    """A kill was asked for while the run waited for its GPUs."""


def host_devices() -> list[str]:
    """GPU_DEVICES, or the GPUs `nvidia-smi -L` lists; none without either."""
    if settings.GPU_DEVICES:
        return list(settings.GPU_DEVICES)
    program = shutil.which("nvidia-smi")
    if program is None:
        return []
    try:
        listed = subprocess.run([program, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return LISTED.findall(listed.stdout)


class Claims:
    """Which run holds which device of this host, kept in `folder`/gpus.json."""

    def __init__(self, folder: Path, devices: list[str]) -> None:
        self.file = folder / "gpus.json"
        self.lock = folder / "gpus.lock"
        self.devices = devices
        folder.mkdir(parents=True, exist_ok=True)

    def claim(self, count: int, holder: str) -> list[str] | None:
        """`count` free devices, now held by `holder`; None while too few are free."""
        if count > len(self.devices):
            raise GpusUnavailable(say(TOO_FEW, needed=gpus_text(count), count=len(self.devices)))
        with self.locked() as held:
            free = [device for device in self.devices if device not in held]
            if len(free) < count:
                return None
            chosen = free[:count]
            held.update(dict.fromkeys(chosen, {"holder": holder, "pid": os.getpid()}))
            return chosen

    def release(self, holder: str) -> None:
        with self.locked() as held:
            for device in [device for device, claim in held.items() if claim["holder"] == holder]:
                del held[device]

    def wait_for(
        self, count: int, holder: str, stop: Callable[[], bool], waiting: Callable[[], None]
    ) -> list[str]:
        """Claim `count` devices once they are free (`waiting` is told once that they are
        not yet), unless `stop` says to give up."""
        told = False
        while (chosen := self.claim(count, holder)) is None:
            if not told:
                waiting()
                told = True
            if stop():
                raise KilledWhileWaiting(say(KILLED_WAITING))
            time.sleep(WAIT_EVERY)
        return chosen

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict]:
        """The live claims, under the host's lock; what the block leaves in them is kept."""
        with self.lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            held = {device: claim for device, claim in self.read().items() if alive(claim["pid"])}
            yield held
            self.write(held)

    def read(self) -> dict:
        try:
            return json.loads(self.file.read_text())
        except (OSError, ValueError):
            return {}

    def write(self, held: dict) -> None:
        written = self.file.with_suffix(".tmp")
        written.write_text(json.dumps(held))
        written.replace(self.file)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gpus_text(count: int) -> Said:
    return counted(count, ONE_GPU, GPUS)


TOO_FEW = gettext_noop(
    "The run needs %(needed)s and this worker has %(count)s (GPU_DEVICES, or what nvidia-smi "
    "-L lists)."
)
KILLED_WAITING = gettext_noop("Killed on request while waiting for a GPU.")


@contextlib.contextmanager
def held(
    run_id: int, count: int, stop: Callable[[], bool], waiting: Callable[[], None]
) -> Iterator[list[str]]:
    """The devices the run holds while it goes: none when it asks for none."""
    if count == 0:
        yield []
        return
    claims = Claims(Path(settings.WORKER_DIR), host_devices())
    holder = f"run-{run_id}"
    devices = claims.wait_for(count, holder, stop, waiting)
    try:
        yield devices
    finally:
        claims.release(holder)


def device_nodes(devices: list[str], dev: Path = Path("/dev")) -> list[Path]:
    """The device files a run of `devices` needs: its GPUs' own, and the driver's shared ones
    (control, unified memory, capabilities), never another GPU's."""
    own = [dev / f"nvidia{device}" for device in devices]
    shared = [dev / name for name in ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"]]
    shared += [dev / "nvidia-modeset", *sorted(dev.glob("nvidia-caps/*"))]
    return [node for node in [*own, *shared] if node.exists()]
