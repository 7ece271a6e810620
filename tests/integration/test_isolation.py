"""A run's code executes in a sandbox: it reaches its own workspace and nothing else.

The probe package tries what a hostile package would: reading the service's secrets,
database, store and caches, other runs, the worker's environment; writing outside its
workspace, to its staged data and to its environment; connecting to the host's services;
leaving a detached process behind.
"""

import io
import json
import os
import pwd
import shutil
import socket
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from aicenter.store import get_store
from pipelines.models import Run, Status
from tests.factories import api_client
from tests.integration.conftest import wait_for
from tests.integration.test_runs import FAST, finished, started_run
from tests.pipelines.builders import dataset_with, package_version_with
from tests.pipelines.test_environments import planting_sdist

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PROBE = """\
import json, os, socket, sys, time
from pathlib import Path

def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as error:
        return type(error).__name__

def connect(port):
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass

def names_in(folder):
    try:
        return sorted(path.name for path in Path(folder).iterdir())
    except OSError:
        return []

def leave_a_daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)

class Main:
    def train(self, training_directory):
        target = json.loads(os.environ["targets"])
        data_file = next(p for p in Path(training_directory).rglob("*") if p.is_file())
        site = next(Path(sys.prefix).glob("lib/python*/site-packages"))
        seen = {
            "uid": os.getuid(),
            "env": dict(os.environ),
            "processes": [p.name for p in Path("/proc").iterdir() if p.name.isdigit()],
            "runs_visible": names_in(Path(target["worker"], "runs")),
            "environments_visible": names_in(Path(target["worker"], "envs")),
            "read_data_file": attempt(data_file.read_bytes),
            "write_data_file": attempt(lambda: open(data_file, "a").close()),
            "chmod_data_file": attempt(lambda: data_file.chmod(0o666)),
            "write_environment": attempt(lambda: (site / "sitecustomize.py").write_text("")),
            "write_etc": attempt(lambda: Path("/etc/planted").write_text("x")),
            "write_worker_dir": attempt(lambda: Path(target["worker"], "planted").write_text("")),
            "read_worker_environment": attempt(
                lambda: Path(f"/proc/{target['worker_pid']}/environ").read_bytes()
            ),
            **{
                f"read_{name}": attempt(lambda path=path: Path(path).read_bytes())
                for name, path in target["files"].items()
            },
            **{
                f"list_{name}": attempt(lambda path=path: list(Path(path).iterdir()))
                for name, path in target["folders"].items()
            },
            **{
                f"connect_{name}": attempt(lambda port=port: connect(port))
                for name, port in target["ports"].items()
            },
        }
        leave_a_daemon()
        artifacts = Path(os.environ["artifacts_directory"])
        (artifacts / "key").symlink_to(target["files"]["secret_key"])
        Path("model.txt").write_text("trained")
        Path("key").symlink_to(target["files"]["secret_key"])
        Path(os.environ["HOME"], "cache").write_text("ok")
        Path(os.environ["artifacts_directory"], "seen.json").write_text(json.dumps(seen))

    def save(self):
        pass
"""

BUILT_PACKAGE = """\
import planting_probe

class Main:
    def train(self, training_directory):
        pass

    def save(self):
        pass
"""

THROUGH_THE_GATE = """\
import json, os, socket
from pathlib import Path
from urllib.parse import urlsplit

proxy = urlsplit(os.environ["HTTPS_PROXY"])

def tunnel(target):
    with socket.create_connection((proxy.hostname, proxy.port), timeout=10) as connection:
        connection.sendall(f"CONNECT {target} HTTP/1.1\\r\\n\\r\\n".encode())
        answer = connection.recv(4096).split(b"\\r\\n")[0].decode()
        if answer.endswith("200 Connection established"):
            connection.sendall(b"ping")
            return connection.recv(4).decode()
        return answer

def direct(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        return "allowed"
    except OSError as error:
        return type(error).__name__

class Main:
    def train(self, training_directory):
        targets = json.loads(os.environ["targets"])
        seen = {
            "tunnel": {name: tunnel(target) for name, target in targets.items()},
            "direct": direct(targets["outside"]),
        }
        Path(os.environ["artifacts_directory"], "seen.json").write_text(json.dumps(seen))

    def save(self):
        pass
"""

LINGERING = """\
import os, time

class Main:
    def train(self, training_directory):
        if os.fork() == 0:
            os.setsid()
            time.sleep(600)
        print("ready", flush=True)
        time.sleep(600)

    def save(self):
        pass
"""


GRACEFUL = """\
import os, signal, sys, time
from pathlib import Path

def stop(*_):
    Path(os.environ["artifacts_directory"], "stopped.txt").write_text("saved before stopping")
    sys.exit(1)

class Main:
    def train(self, training_directory):
        signal.signal(signal.SIGTERM, stop)
        print("ready", flush=True)
        time.sleep(600)

    def save(self):
        pass
"""


@dataclass
class WorkerKind:
    """How the worker runs: as root, switching to RUN_AS_USER for the code, or as an
    ordinary account, whose code runs as that account in a user namespace."""

    name: str
    code_uid: int  # whom the run's code runs as, seen from outside
    start: dict = field(default_factory=dict)  # more arguments to Workers.start

    def processes_of_runs(self) -> list[int]:
        """Processes of the code's account working in a run's folder of this worker."""
        runs = Path(self.start["AICENTER_WORKER_DIR"], "runs")
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                uids = next(line for line in status.read_text().splitlines() if line[:4] == "Uid:")
                cwd = Path(os.readlink(status.parent / "cwd"))
            except (OSError, StopIteration):
                continue
            if int(uids.split()[1]) == self.code_uid and runs in cwd.parents:
                found.append(int(status.parent.name))
        return found


def ordinary_account() -> pwd.struct_passwd:
    """The account an ordinary worker runs as: ours, or the one CI names when we are root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.getuid())
    name = os.environ.get("AICENTER_TEST_WORKER_USER")
    if not name:
        pytest.skip("set AICENTER_TEST_WORKER_USER to an account that can run this Python")
    if settings.STORE["kind"] != "s3" or not settings.DATABASES["default"]["HOST"]:
        pytest.skip("a worker of another account reaches the database and store over the network")
    return pwd.getpwnam(name)


def folder_of(account: pwd.struct_passwd) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="aicenter-worker-"))
    os.chown(folder, account.pw_uid, account.pw_gid)
    return folder


@pytest.fixture(params=["root", "ordinary"])
def worker_kind(request) -> WorkerKind:
    if request.param == "root":
        if os.geteuid() != 0:
            pytest.skip("the worker switches to RUN_AS_USER only when it runs as root")
        kind = WorkerKind("root", pwd.getpwnam("nobody").pw_uid)
    else:
        account = ordinary_account()
        kind = WorkerKind("ordinary", account.pw_uid)
        if os.geteuid() == 0:
            folder = folder_of(account)
            request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
            worker_dir = folder / "host-a"
            kind.start = {
                "account": account,
                "AICENTER_WORKER_DIR": worker_dir,
                "AICENTER_DATA_DIR": folder / "data",
            }
    return kind


def targets(kind: WorkerKind, worker_pid: int, web_url: str) -> dict:
    """What the probe tries to reach: the service's files, folders and ports."""
    data_dir = Path(kind.start.get("AICENTER_DATA_DIR", settings.DATA_DIR))
    worker_dir = Path(kind.start["AICENTER_WORKER_DIR"])
    files = {"secret_key": settings.DATA_DIR / "secret_key"}
    folders = {"data_folder": data_dir, "blob_cache": worker_dir / "blobs"}
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        files["database"] = settings.DATABASES["default"]["NAME"]
    if settings.STORE["kind"] == "local":
        folders["store"] = settings.STORE["root"]
    ports = {"postgresql": 5432, "redis": 6379, "web": int(web_url.rsplit(":", 1)[1])}
    if settings.STORE["kind"] == "s3":
        ports["store"] = int(settings.STORE["endpoint_url"].rsplit(":", 1)[1].strip("/"))
    return {
        "worker": str(worker_dir),
        "worker_pid": worker_pid,
        "files": {name: str(path) for name, path in files.items()},
        "folders": {name: str(path) for name, path in folders.items()},
        "ports": ports,
    }


def worker_dir_of(workers, kind: WorkerKind) -> Path:
    return Path(kind.start.setdefault("AICENTER_WORKER_DIR", workers.tmp_path / "host-a"))


def start_worker(workers, kind: WorkerKind, **variables):
    worker_dir_of(workers, kind)
    return workers.start(**kind.start, **FAST, **variables)


def test_a_runs_code_reaches_its_workspace_and_nothing_else(
    workers, project, owner, worker_kind, live_server
):
    worker = start_worker(workers, worker_kind)
    version = package_version_with(project, owner, PROBE)
    data = dataset_with(project, "tiny", {"train/a.csv": b"1,2\n"})
    reach = targets(worker_kind, worker.pid, live_server.url)
    parameters = {"targets": json.dumps(reach)}
    api = api_client(owner)
    run = finished(started_run(api, project, version, input_dataset=data.id, parameters=parameters))
    assert run.status == Status.SUCCESSFUL, run.error
    seen = json.loads(get_store().get_bytes(f"runs/{run.id}/artifacts/seen.json"))
    assert seen.pop("uid") == worker_kind.code_uid
    assert "SECRET_KEY" not in seen.pop("env")
    assert len(seen.pop("processes")) <= 3  # the sandbox's init, the harness, and ls
    assert seen.pop("read_data_file") == "allowed"
    assert [name.split("-")[0] for name in seen.pop("runs_visible")] == [str(run.id)]
    assert len(seen.pop("environments_visible")) == 1  # its own, of all those built here
    # The folders above the workspace are the sandbox's own (below its own /tmp, for a worker
    # folder in /tmp, where an ordinary worker's code owns them): only the host can tell.
    seen.pop("write_worker_dir")
    assert not list(Path(reach["worker"]).rglob("planted"))
    assert {probe: outcome for probe, outcome in seen.items() if outcome == "allowed"} == {}
    assert {f"read_{name}" for name in reach["files"]} <= seen.keys()
    assert {"connect_web", "list_data_folder"} <= seen.keys()
    assert run.produced_version.label == "1.1"
    # Links planted in the artifacts and the package publish nothing of the worker's.
    stored = [found.key for found in get_store().list(f"runs/{run.id}/artifacts/")]
    assert stored == [f"runs/{run.id}/artifacts/seen.json"]
    assert "key" not in package_files(run.produced_version)
    logged = "\n".join(run.log_lines.values_list("text", flat=True))
    assert "key" in logged and "it is a link" in logged
    wait_for(lambda: not worker_kind.processes_of_runs(), timeout=10, what="the daemon to end")


def package_files(version) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(get_store().get_bytes(version.zip_key))) as package:
        return package.namelist()


def test_a_packages_source_build_writes_nothing_outside_its_build_folder(
    workers, project, owner, worker_kind
):
    index = Path(tempfile.mkdtemp(prefix="aicenter-index-"))
    index.chmod(0o755)
    try:
        worker_dir = worker_dir_of(workers, worker_kind)
        targets = [settings.DATA_DIR / "planted", index / "planted", worker_dir / "planted"]
        planting_sdist(index / "sdists", targets)
        start_worker(workers, worker_kind, UV_FIND_LINKS=index / "sdists", UV_OFFLINE=1)
        requirements = {"requirements.txt": "planting-probe==0.1\n"}
        version = package_version_with(project, owner, BUILT_PACKAGE, **requirements)
        data = dataset_with(project, "tiny", {"train/a.csv": b"1,2\n"})
        run = finished(started_run(api_client(owner), project, version, input_dataset=data.id))
        assert run.status == Status.SUCCESSFUL, run.error
        assert [target for target in targets if target.exists()] == []
    finally:
        shutil.rmtree(index, ignore_errors=True)


def started_package(workers, kind: WorkerKind, project, owner, code: str) -> int:
    """A run of a package of `code` on tiny data, on a worker started for it."""
    start_worker(workers, kind)
    version = package_version_with(project, owner, code)
    data = dataset_with(project, "tiny", {"train/a.csv": b"1,2\n"})
    return started_run(api_client(owner), project, version, input_dataset=data.id)


def killed(owner, kind: WorkerKind, run: Run) -> None:
    api_client(owner).post(f"/api/v1/projects/{run.project_id}/runs/{run.id}/kill")
    assert finished(run.id, timeout=30).status == Status.KILLED
    wait_for(lambda: not kind.processes_of_runs(), timeout=10, what="every process to end")


def test_killing_a_run_ends_every_process_it_started(workers, project, owner, worker_kind):
    run_id = started_package(workers, worker_kind, project, owner, LINGERING)
    wait_for(lambda: len(worker_kind.processes_of_runs()) >= 2, what="the run and its daemon")
    killed(owner, worker_kind, Run.objects.get(id=run_id))


def test_a_killed_runs_code_gets_sigterm_and_its_grace_first(workers, project, owner, worker_kind):
    run_id = started_package(workers, worker_kind, project, owner, GRACEFUL)
    run = wait_for(
        lambda: Run.objects.filter(id=run_id, log_lines__text="ready").first(),
        what="the run's code to start",
    )
    killed(owner, worker_kind, run)
    stopped = f"runs/{run.id}/artifacts/stopped.txt"
    assert get_store().get_bytes(stopped) == b"saved before stopping"


def test_a_run_with_the_network_reaches_out_through_the_gate_only(
    workers, project, owner, worker_kind, live_server
):
    with socket.create_server(("127.0.0.2", 0)) as outside:
        threading.Thread(target=answer_pings, args=(outside,), daemon=True).start()
        start_worker(workers, worker_kind, RUN_NETWORK="gate", EGRESS_ALLOW="127.0.0.2/32")
        version = package_version_with(project, owner, THROUGH_THE_GATE)
        data = dataset_with(project, "tiny", {"train/a.csv": b"1,2\n"})
        web = live_server.url.rsplit(":", 1)[1]
        reach = {
            "outside": f"127.0.0.2:{outside.getsockname()[1]}",
            "postgresql": "127.0.0.1:5432",
            "redis": "localhost:6379",
            "web": f"127.0.0.1:{web}",
            "metadata": "169.254.169.254:80",
        }
        parameters = {"targets": json.dumps(reach)}
        run_id = started_run(
            api_client(owner),
            project,
            version,
            input_dataset=data.id,
            network=True,
            parameters=parameters,
        )
        run = finished(run_id)
    assert run.status == Status.SUCCESSFUL, run.error
    seen = json.loads(get_store().get_bytes(f"runs/{run.id}/artifacts/seen.json"))
    refused = "HTTP/1.1 403 Forbidden"
    assert seen["tunnel"] == {
        "outside": "pong",
        "postgresql": refused,
        "redis": refused,
        "web": refused,
        "metadata": refused,
    }
    assert seen["direct"] != "allowed"  # no network but through the gate
    logged = "\n".join(run.log_lines.values_list("text", flat=True))
    assert "through the worker's network gate" in logged
    assert "The network gate refused 4 connection(s)" in logged


def answer_pings(server: socket.socket) -> None:
    connection, _ = server.accept()
    with connection:
        if connection.recv(4) == b"ping":
            connection.sendall(b"pong")
