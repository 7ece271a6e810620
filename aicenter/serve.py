"""bin/serve's promise: the web server and the worker cluster start together and stop together.

Each part runs in a session of its own, so a Ctrl-C or a SIGTERM to bin/serve's process
group reaches only this supervisor: django-q2's cluster hangs when its own workers get the
signal, and stops cleanly (in about 3 s) only through its main process. Whatever is still
alive after the grace period is killed with its whole process group, so no process is left.
When one part stops by itself, the other is stopped too and the exit status says it failed.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Under the 10 s that systemd and `docker stop` wait before killing everything themselves.
STOP_GRACE_SECONDS = 7
POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1


def die_with_supervisor() -> None:
    """Runs in the child before exec: if the supervisor is killed outright, the part stops."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Part:
    name: str
    command: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, cwd: Path) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own commands
            self.command, cwd=cwd, start_new_session=True, preexec_fn=die_with_supervisor
        )

    def exit_code(self) -> int | None:
        return self.process.poll()

    def alive(self) -> bool:
        """Whether any process of the part runs: its main one, or children it left behind."""
        self.process.poll()
        return bool(live_members(self.process.pid))

    def stop(self) -> None:
        """Ask the main process to stop its own processes; a part whose main is gone cannot
        be asked (django-q2's workers ignore SIGTERM), so what it left is killed."""
        if self.process.poll() is None:
            self.signal_main(signal.SIGTERM)
        else:
            self.kill()

    def signal_main(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait()


def live_members(group: int) -> list[int]:
    """Processes of the group still running; zombies of orphans nobody reaps do not count."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        return [group]
    members = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


class Supervisor:
    def __init__(self, parts: list[Part], cwd: Path, address: tuple[str, int]) -> None:
        self.parts = parts
        self.cwd = cwd
        self.address = address
        self.requests: list[int] = []

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.request_stop)
        for part in self.parts:
            part.start(self.cwd)
        stopped = self.wait_until_one_stops()
        if stopped is not None:
            others = " and ".join(part.name for part in self.parts if part is not stopped)
            say(f"The {stopped.name} {ending(stopped.exit_code())}; stopping the {others}.")
        else:
            say("Stopping the " + " and the ".join(part.name for part in self.parts) + ".")
        self.stop_all()
        return 0 if stopped is None else 1

    def request_stop(self, signum, frame) -> None:
        self.requests.append(signum)

    def wait_until_one_stops(self) -> Part | None:
        announced = False
        while not self.requests:
            stopped = next((part for part in self.parts if part.exit_code() is not None), None)
            if stopped is not None:
                return stopped
            if not announced and answers(self.address):
                host, port = self.address
                host = f"[{host}]" if ":" in host else host
                say(f"AI Center is at http://{host}:{port}/ (Ctrl-C stops it)")
                announced = True
            time.sleep(POLL_SECONDS)
        return None

    def stop_all(self) -> None:
        """A second Ctrl-C kills at once instead of waiting for the grace period."""
        requests_before = len(self.requests)
        for part in self.parts:
            part.stop()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(part.alive() for part in self.parts):
            if time.monotonic() > deadline or len(self.requests) > requests_before:
                late = [part.name for part in self.parts if part.alive()]
                say(f"Killing the {' and the '.join(late)}: still running.")
                break
            time.sleep(POLL_SECONDS)
        for part in self.parts:
            part.kill()


def ending(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def answers(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=POLL_SECONDS):
            return True
    except OSError:
        return False


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
