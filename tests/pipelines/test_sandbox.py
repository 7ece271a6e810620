"""The sandbox itself, started for real with bubblewrap, without worker processes."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from aicenter.wording import english
from pipelines.models import Run, Status
from pipelines.runner import egress, sandbox
from pipelines.runner.run import run_pipeline
from pipelines.runner.workspace import RunUser, worker_folder
from tests.pipelines.builders import snapshotting_pipeline

PYTHON = "/usr/bin/python3"
FLOWER = b"sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n"


@dataclass
class Worker:
    """How a worker starts the sandbox: as root, which switches to the run's user inside, or
    as an ordinary account, which sandboxes in a user namespace of its own."""

    user: RunUser | None  # whom the sandbox switches to (root workers only)
    starts_as: dict  # how subprocess starts bubblewrap
    writable: Path
    read_only: Path
    uid: int  # whom the code runs as, seen from outside


NOBODY = pwd.getpwnam("nobody")


@pytest.fixture(params=["root", "ordinary"])
def worker(request, tmp_path) -> Worker:
    """A worker of either kind, with a writable folder and a read-only one holding a file."""
    root = os.geteuid() == 0
    if request.param == "root" and not root:
        pytest.skip("a worker running as root needs the tests to run as root")
    if request.param == "ordinary" and root:
        # An ordinary account can bind only what it reaches: a folder of its own in /tmp.
        top = Path(tempfile.mkdtemp(prefix="aicenter-sandbox-"))
        request.addfinalizer(lambda: shutil.rmtree(top, ignore_errors=True))
        top.chmod(0o755)
        starts_as = {"user": NOBODY.pw_uid, "group": NOBODY.pw_gid, "extra_groups": []}
    else:
        top, starts_as = tmp_path, {}
        top.chmod(0o700)  # private to the worker
    found = Worker(None, starts_as, top / "out", top / "data", NOBODY.pw_uid)
    found.writable.mkdir()
    found.read_only.mkdir()
    (found.read_only / "a.csv").write_text("1,2\n")
    if request.param == "root":
        found.user = RunUser(NOBODY.pw_name, NOBODY.pw_uid, NOBODY.pw_gid)
    if root:
        for path in [found.writable, found.read_only, found.read_only / "a.csv"]:
            os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    else:
        found.uid = os.getuid()
    return found


def in_sandbox(code: str, worker: Worker, network: bool = False) -> subprocess.CompletedProcess:
    command = sandbox.confine(
        [PYTHON, "-c", code],
        cwd=worker.writable,
        writable=[worker.writable],
        read_only=[worker.read_only],
        user=worker.user,
        env={"READ_ONLY": str(worker.read_only)},
        network=network,
    )
    return subprocess.run(command, capture_output=True, text=True, timeout=60, **worker.starts_as)


def outcome_of(action: str) -> str:
    """Python that prints 'allowed' or the name of the error the action raised."""
    return f"""
import os, pathlib, socket
try:
    {action}
    print("allowed")
except OSError as error:
    print(type(error).__name__)
"""


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("open('a.txt', 'w').write('x')", "allowed"),
        ("pathlib.Path(os.environ['READ_ONLY'], 'a.csv').read_text()", "allowed"),
        ("open(os.path.join(os.environ['READ_ONLY'], 'a.csv'), 'a')", "denied"),
        ("open(os.path.join(os.environ['READ_ONLY'], 'new'), 'w')", "denied"),
        ("open('/etc/planted', 'w')", "denied"),
        ("open('/usr/planted', 'w')", "denied"),
        ("open('/planted', 'w')", "denied"),
        ("os.listdir(os.path.dirname(os.environ['READ_ONLY']) + '/..')", "allowed"),
        ("open('/etc/resolv.conf').read(); os.listdir('/etc/ssl')", "allowed"),
    ],
)
def test_the_code_writes_only_where_it_may(worker, action, expected):
    result = in_sandbox(outcome_of(action), worker).stdout.strip()
    assert result == expected if expected == "allowed" else result.endswith("Error"), result


def test_the_code_sees_none_of_the_hosts_files_beside_what_it_was_given(worker):
    code = "import os; print(sorted(os.listdir(os.environ.get('TOP', '/'))))"
    listed = in_sandbox(code, worker).stdout
    outside = worker.writable.parent
    assert "'root'" not in listed and "'home'" not in listed and "'var'" not in listed
    nested = in_sandbox(f"import os; print(sorted(os.listdir('{outside}')))", worker)
    assert nested.stdout.strip() == "['data', 'out']"


def test_the_code_runs_unprivileged_and_sees_only_its_own_processes(worker):
    code = "import os; print(os.getuid(), len([p for p in os.listdir('/proc') if p.isdigit()]))"
    uid, processes = in_sandbox(code, worker).stdout.split()
    assert int(uid) == worker.uid
    assert int(processes) <= 2


def test_the_code_may_use_multiprocessing_locks_in_shared_memory_of_its_own(worker):
    code = "import multiprocessing; multiprocessing.Lock(); print('locked')"
    result = in_sandbox(code, worker)
    assert result.stdout.strip() == "locked", result.stderr


def test_the_code_has_no_network_unless_given_the_hosts(worker):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        action = f"socket.create_connection(('127.0.0.1', {port}), timeout=2)"
        assert in_sandbox(outcome_of(action), worker).stdout.strip() != "allowed"
        given = in_sandbox(outcome_of(action), worker, network=True)
        assert given.stdout.strip() == "allowed"


TUNNEL = """
import os, socket, sys
for target in sys.argv[1:]:
    with socket.create_connection(("127.0.0.1", 3128), timeout=10) as proxy:
        proxy.sendall(f"CONNECT {target} HTTP/1.1\\r\\n\\r\\n".encode())
        answer = proxy.recv(4096)
        if answer.startswith(b"HTTP/1.1 200"):
            proxy.sendall(b"ping")
            answer = proxy.recv(4)
        print(target, answer.split(b"\\r\\n")[0].decode(), os.environ["HTTPS_PROXY"])
"""


def test_the_network_gate_is_the_sandboxs_only_way_out(worker, settings):
    settings.EGRESS_ALLOW = ["127.0.0.2/32"]
    settings.WORKER_DIR = worker.writable.parent / "worker"
    if worker.starts_as:
        # The gate's folder is in the worker's, here that of the account bwrap starts as.
        os.chown(worker_folder("gates"), worker.starts_as["user"], worker.starts_as["group"])
    with (
        socket.create_server(("127.0.0.2", 0)) as outside,
        socket.create_server(("127.0.0.1", 0)) as service,
        egress.gate() as gate,
    ):
        permitted = f"127.0.0.2:{outside.getsockname()[1]}"
        refused = f"127.0.0.1:{service.getsockname()[1]}"
        threading.Thread(target=lambda: echo_once(outside), daemon=True).start()
        command = gate.wrapped(Path(PYTHON), [PYTHON, "-c", TUNNEL, permitted, refused])
        result = subprocess.run(
            sandbox.confine(
                command,
                cwd=worker.writable,
                writable=[worker.writable],
                read_only=[gate.folder],
                user=worker.user,
                env=gate.environment(),
            ),
            capture_output=True,
            text=True,
            timeout=60,
            **worker.starts_as,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{permitted} ping {egress.PROXY}",
        f"{refused} HTTP/1.1 403 Forbidden {egress.PROXY}",
    ]


def echo_once(server: socket.socket) -> None:
    connection, _ = server.accept()
    with connection:
        connection.sendall(connection.recv(4))


def test_a_sandbox_that_cannot_start_says_why(monkeypatch):
    user = RunUser(NOBODY.pw_name, NOBODY.pw_uid, NOBODY.pw_gid) if os.geteuid() == 0 else None
    monkeypatch.setattr(sandbox, "bwrap", lambda: "/nonexistent/bwrap")
    sandbox.check.cache_clear()
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot start on this worker"):
        sandbox.check(user)
    sandbox.check.cache_clear()


def test_a_root_worker_without_a_run_user_is_refused(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    sandbox.check.cache_clear()
    with pytest.raises(sandbox.SandboxUnavailable, match="needs RUN_AS_USER"):
        sandbox.check(None)
    sandbox.check.cache_clear()


def test_the_services_folders_are_hidden_where_a_system_folder_holds_them(settings):
    settings.BASE_DIR = Path("/usr/src/aicenter")
    settings.DATA_DIR = Path("/usr/src/aicenter/var")
    assert sandbox.masked() == [Path("/usr/src/aicenter"), Path("/usr/src/aicenter/var")]
    command = sandbox.confine(["/bin/true"], cwd=Path("/"), writable=[], read_only=[], user=None)
    hidden = command.index("/usr/src/aicenter")
    assert command[hidden - 1] == "--tmpfs"
    assert command.index("/usr") < hidden  # after /usr is shown, so it hides what is in it


def test_the_folders_above_what_is_bound_are_opened_to_the_run_user():
    paths = [Path("/root/.pyenv/versions/3.12.1"), Path("/root/work/run/data")]
    assert sandbox.ancestors(paths) == [
        Path("/root"),
        Path("/root/.pyenv"),
        Path("/root/work"),
        Path("/root/.pyenv/versions"),
        Path("/root/work/run"),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("sandboxed", "network", "given", "line"),
    [
        (False, False, "gate", sandbox.NOT_ISOLATED),
        (True, True, "off", "This run asked for the network, which this worker does not give"),
        (True, True, "gate", "This run reaches the Internet over HTTPS through the worker's"),
        (True, True, "host", "This run has the host's network (RUN_NETWORK=host)"),
    ],
)
def test_a_run_says_in_its_first_lines_what_it_may_reach(
    project, owner, settings, tmp_path, sandboxed, network, given, line
):
    settings.WORKER_DIR = str(tmp_path / "worker")
    settings.RUN_SANDBOX = sandboxed
    settings.RUN_NETWORK = given
    if not sandboxed:
        settings.RUN_AS_USER = ""  # unconfined, nobody could not reach this test's Python
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": FLOWER})
    run = pipeline.runs.get()
    Run.objects.filter(id=run.id).update(network=network, queued_at=timezone.now())
    run_pipeline(run.id)
    run.refresh_from_db()
    assert run.status == Status.SUCCESSFUL, run.error
    lines = list(run.log_lines.order_by("n").values_list("text", flat=True))
    assert lines[1].startswith(english(line))


@pytest.mark.django_db(transaction=True)
def test_a_runs_own_variables_never_reach_the_programs_that_set_the_sandbox_up(
    project, owner, settings, tmp_path
):
    settings.WORKER_DIR = str(tmp_path / "worker")
    parameters = {"save_training_data": "false", "LD_DEBUG": "libs", "epochs": "3"}
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": FLOWER}, **parameters)
    run = pipeline.runs.get()
    run_pipeline(run.id)
    run.refresh_from_db()
    assert run.status == Status.SUCCESSFUL, run.error
    logged = "\n".join(run.log_lines.values_list("text", flat=True))
    # The loader would say so on stderr, had LD_DEBUG reached bwrap or setpriv (both root).
    assert "bwrap" not in logged and "setpriv" not in logged
    assert "initialize program" not in logged


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_artifacts_folder_is_reserved_does_not_start(
    project, owner, settings, tmp_path
):
    settings.WORKER_DIR = str(tmp_path / "worker")
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": FLOWER})
    run = pipeline.runs.get()
    # Saved before the folder was checked: the runner checks it again.
    Run.objects.filter(id=run.id).update(
        parameters={**run.parameters, "artifacts_directory": "data"}
    )
    run_pipeline(run.id)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("The run cannot start: artifacts_directory 'data' is reserved")
