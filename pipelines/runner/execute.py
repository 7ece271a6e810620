"""Executes the harness in its own process group, watching for kills, timeouts and output."""

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext_noop

from aicenter.wording import Said, say
from pipelines.models import Run, Stream
from pipelines.runner import sandbox
from pipelines.runner.limits import RunLimits
from pipelines.runner.logs import FLUSH_BATCH, RunLog
from pipelines.runner.workspace import RunUser

TICK = 0.2
NOT_PERMITTED = gettext_noop(
    "User %(user)s (RUN_AS_USER) may not run %(program)s in %(folder)s: install Python and "
    "AICENTER_WORKER_DIR where that user can reach them"
)
WITH_ERROR = gettext_noop("%(what)s (%(error)s).")
FLUSH_EVERY = 0.5
CHECK_EVERY = 1.0
READ_LIMIT = 64 * 1024
# Lines read ahead of the log: a run that prints faster than the database takes its lines
# waits for it, instead of piling them up in the worker's memory.
QUEUED_LINES = 1000
READERS_GRACE = 5.0


class Followed(Protocol):
    """A file the run writes for the service (its metrics, say), read about once a second
    while it goes and once more when it ended; neither read raises for what the run wrote."""

    def tick(self) -> object: ...

    def finish(self) -> None: ...


@dataclass
class Outcome:
    returncode: int | None
    stopped: str | None = None  # "killed", "timeout" or "limit"
    result: dict = field(default_factory=dict)
    exceeded: Said | None = None  # which limit ended the run, for a person


def execute(
    run: Run,
    command: list[str],
    cwd: Path,
    env: dict,
    time_limit: int,
    log: RunLog,
    user: RunUser | None,
    limits: RunLimits | None = None,
    followed: Sequence[Followed] = (),
) -> Outcome:
    """Run `command` as `user` (None: as the worker), streaming its output into the log and
    the files it writes for the service (`followed`: its metrics, say) into the database,
    inside the limits' control group."""
    group = limits.group if limits else None
    # A command started as the worker joins its group itself, before it starts anything;
    # one started as another user cannot, and is moved in at once (before its code runs).
    process = start(group.join(command) if group and not user else command, cwd, env, user)
    if group and user:
        group.add(process.pid)
    Run.objects.filter(id=run.id).update(process_group=process.pid)
    lines: queue.Queue = queue.Queue(maxsize=QUEUED_LINES)
    readers = [
        start_reader(process.stdout, Stream.STDOUT, lines),
        start_reader(process.stderr, Stream.STDERR, lines),
    ]
    stopped, exceeded = watch(run, process, lines, time_limit, log, limits, followed)
    end_group(process.pid)
    read_rest(readers, lines, log)
    for reader in followed:
        reader.finish()
    log.flush()
    if limits and process.returncode != 0 and not stopped:
        exceeded = limits.ended_over()
        stopped = "limit" if exceeded else None
    return Outcome(process.returncode, stopped, exceeded=exceeded)


def start(command: list[str], cwd: Path, env: dict, user: RunUser | None) -> subprocess.Popen:
    """The harness in its own session; as the unprivileged user when the worker is root."""
    as_user = {"user": user.uid, "group": user.gid, "extra_groups": []} if user else {}
    try:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            **as_user,
        )
    except PermissionError as error:
        if user is None:
            raise
        said = say(NOT_PERMITTED, user=user.name, program=command[0], folder=str(cwd))
        raise PermissionError(say(WITH_ERROR, what=said, error=str(error))) from None


def start_reader(pipe, stream: str, lines: queue.Queue) -> threading.Thread:
    def pump():
        with pipe:
            for raw in iter(lambda: pipe.readline(READ_LIMIT), b""):
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                lines.put((stream, text, timezone.now()))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return reader


def drain(lines: queue.Queue, log: RunLog, wait: float = 0.0, seconds: float = CHECK_EVERY) -> None:
    """The lines read so far, after waiting up to `wait` for the first; for `seconds` at most,
    so that kills are still looked for. Each full batch is written at once, so a flood never
    piles up in memory."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if len(log.pending) >= FLUSH_BATCH:
            guarded(log.flush)
            if log.pending:
                return  # the database is busy: the queue fills up and the run waits
        try:
            stream, text, at = lines.get(timeout=wait) if wait else lines.get_nowait()
        except queue.Empty:
            return
        wait = 0.0
        log.add(stream, text, at)


def read_rest(readers: list[threading.Thread], lines: queue.Queue, log: RunLog) -> None:
    """What the pipes still hold once the run ended. A reader waiting on the full queue ends
    only while the queue is drained; one kept alive by an escaped process is given up on."""
    deadline = time.monotonic() + READERS_GRACE
    while any(reader.is_alive() for reader in readers) and time.monotonic() < deadline:
        drain(lines, log, wait=TICK)
    drain(lines, log, seconds=READERS_GRACE)


def watch(
    run: Run,
    process,
    lines: queue.Queue,
    time_limit: int,
    log: RunLog,
    limits: RunLimits | None,
    followed: Sequence[Followed],
) -> tuple[str | None, str | None]:
    """Stream output until the process ends; stop it on a kill request, the timeout or a
    limit it went over (which is said)."""
    started = time.monotonic()
    last_flush = last_check = last_followed = started
    stopped = exceeded = None
    while process.poll() is None:
        drain(lines, log, wait=TICK)  # as a tick's pause, ended by the first line
        now = time.monotonic()
        if now - last_flush >= FLUSH_EVERY:
            guarded(log.flush)
            last_flush = now
        if now - last_followed >= CHECK_EVERY:
            for reader in followed:
                reader.tick()
            last_followed = now
        if now - last_check >= CHECK_EVERY and stopped is None:
            last_check = now
            if guarded(lambda: kill_requested(run.id)):
                stopped = "killed"
            elif now - started > time_limit:
                stopped = "timeout"
            elif limits and (exceeded := limits.over()):
                stopped = "limit"
            if stopped:
                terminate(process)
    return stopped, exceeded


def kill_requested(run_id: int) -> bool:
    return bool(Run.objects.filter(id=run_id).values_list("kill_requested", flat=True).first())


def guarded(action):
    """Run a database action; a dropped connection is reopened on the next call."""
    try:
        return action()
    except DatabaseError:
        connection.close()
        return None


def terminate(process) -> None:
    """SIGTERM to the run's code, then SIGKILL once the grace period is over."""
    signal_code(process, signal.SIGTERM)
    try:
        process.wait(timeout=settings.KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait()


def signal_code(process: subprocess.Popen, signum: int) -> None:
    """Signal the harness's process group; in the sandbox, the processes of the code itself.

    There the harness runs in a session of its own below bubblewrap and the sandbox's init
    (which ignores what it has no handler for), and a signal to bubblewrap would end the
    whole sandbox at once.
    """
    if sandbox.bwrap() not in process.args:  # it may come after a control group's shell
        signal_group(process.pid, signum)
        return
    for code in descendants(process.pid)[1:]:  # all but the sandbox's init
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(code, signum)


def descendants(pid: int) -> list[int]:
    """Processes below `pid`, breadth first, found through /proc."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat_file.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat_file.parent.name))
    found, frontier = [], children.get(pid, [])
    while frontier:
        found += frontier
        frontier = [child for parent in frontier for child in children.get(parent, [])]
    return found


def end_group(pgid: int) -> None:
    """No process the run started outlives it."""
    signal_group(pgid, signal.SIGKILL)


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
