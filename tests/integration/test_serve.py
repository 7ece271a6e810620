"""bin/serve's supervisor, as a person or systemd meets it: Ctrl-C or SIGTERM stops the web
server and the worker cluster within 10 s with no process left, and when one part dies the
other is stopped and the service exits non-zero naming it. It writes nowhere but its data
folder, the demo's first run included."""

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.service import FOREIGN_VARIABLES
from tests.processes import children, command_line, live_members
from tests.workers import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STOPPED_WITHIN = 10
# A fresh data folder is migrated and seeded first; on two busy cores that takes a while.
READY_WITHIN = 300
ENDED = {"successful", "failed", "killed"}


@dataclass
class Service:
    process: subprocess.Popen
    port: int
    log: Path
    groups: list[int] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def part(self, word: str) -> int:
        return next(pid for pid in children(self.process.pid) if word in command_line(pid))

    def left(self) -> list[int]:
        return [pid for group in self.groups for pid in live_members(group)]

    def record_groups(self) -> None:
        """The supervisor's process group and each part's (each part leads a session)."""
        self.groups = [self.process.pid, *children(self.process.pid)]

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                return answer.status == 200
        except OSError:
            return False


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("serve") / "data"


@pytest.fixture
def outside(tmp_path):
    """A home folder and a temporary folder that the service must leave empty."""
    folders = {"HOME": tmp_path / "home", "TMPDIR": tmp_path / "tmp"}
    for folder in folders.values():
        folder.mkdir()
    return folders


@pytest.fixture
def service(data_dir, outside, tmp_path):
    # Starting and stopping is the point here, not the demo's first run (an environment to
    # build while the service is stopped).
    yield from served(data_dir, outside, tmp_path, demo_first_run="off")


@pytest.fixture
def first_launch(outside, tmp_path):
    """A service on a data folder of its own, so the demo's first run is its to watch."""
    yield from served(tmp_path / "data", outside, tmp_path, demo_first_run="on")


def served(data_dir: Path, outside: dict, tmp_path: Path, demo_first_run: str) -> Iterator[Service]:
    started = start_service(data_dir, outside, tmp_path / "serve.log", demo_first_run)
    yield started
    for group in started.groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    started.process.wait(timeout=10)


def start_service(data_dir: Path, outside: dict, log: Path, demo_first_run: str) -> Service:
    environment = {
        name: value for name, value in os.environ.items() if name not in FOREIGN_VARIABLES
    }
    port = free_port()
    environment.update(
        {name: str(folder) for name, folder in outside.items()},
        AICENTER_DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(port),
        Q_WORKERS="1",
        DEMO_FIRST_RUN=demo_first_run,
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal or systemd gives it
        )
    started = Service(process, port, log)
    deadline = time.monotonic() + READY_WITHIN
    while not started.healthy():
        assert process.poll() is None, started.output()[-3000:]
        assert time.monotonic() < deadline, started.output()[-3000:]
        time.sleep(0.5)
    started.record_groups()
    return started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_gone(service: Service, since: float) -> None:
    while service.left() and time.monotonic() - since < STOPPED_WITHIN:
        time.sleep(0.1)
    assert service.left() == [], service.output()[-3000:]
    assert time.monotonic() - since < STOPPED_WITHIN


def demo_run_status(data_dir: Path) -> str | None:
    """The status of the demo's first run, read from the service's own database."""
    database = f"file:{data_dir / 'aicenter.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(database, uri=True)) as connection:
        row = connection.execute("SELECT status FROM pipelines_run ORDER BY id LIMIT 1").fetchone()
    return row[0] if row else None


def test_the_demo_first_run_keeps_its_caches_and_temporary_files_in_the_data_folder(
    first_launch, tmp_path, outside
):
    """Building the run's environment (uv, installing scikit-learn in the sandbox, through
    the network gate) and running it write nothing to the home or temporary folder."""
    data_dir = tmp_path / "data"
    wait_for(
        lambda: demo_run_status(data_dir) in ENDED,
        timeout=READY_WITHIN,
        every=1,
        what="the demo's first run to end",
    )
    assert demo_run_status(data_dir) == "successful", first_launch.output()[-3000:]
    os.killpg(first_launch.process.pid, signal.SIGTERM)
    assert first_launch.process.wait(timeout=STOPPED_WITHIN) == 0
    assert [path for folder in outside.values() for path in folder.rglob("*")] == []
    assert list((data_dir / "worker" / "envs").glob("*/.ready"))


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm-to-the-group"]
)
def test_a_signal_to_the_process_group_stops_everything_within_ten_seconds(
    service, signum, data_dir, outside
):
    assert len(service.groups) == 3
    sent = time.monotonic()
    os.killpg(service.process.pid, signum)
    assert service.process.wait(timeout=STOPPED_WITHIN) == 0
    wait_until_gone(service, sent)
    assert not service.healthy()
    password = (data_dir / "demo_password").read_text()
    assert f"Log in as 'demo' with password {password!r}." in service.output()
    assert f"AI Center is at http://127.0.0.1:{service.port}/" in service.output()
    assert [path for folder in outside.values() for path in folder.iterdir()] == []


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("qcluster", "The worker cluster (qcluster) was killed by SIGKILL; stopping the web"),
        ("gunicorn", "The web server (gunicorn) was killed by SIGKILL; stopping the worker"),
    ],
    ids=["worker-cluster", "web-server"],
)
def test_when_one_part_dies_the_other_is_stopped_and_the_service_fails(service, command, said):
    main = service.part(command)
    # Its own processes started: the worker cluster's would run on, orphaned, if left.
    wait_for(lambda: len(live_members(main)) > 1, timeout=120, what=f"the {command}'s processes")
    killed = time.monotonic()
    os.kill(main, signal.SIGKILL)
    assert service.process.wait(timeout=STOPPED_WITHIN) == 1
    wait_until_gone(service, killed)
    assert said in service.output()
    assert not service.healthy()
