"""Virtual environments for package versions: one per requirements and Python version.

Environments live on each worker, are built once under a file lock (one builder
per host at a time) and are reused by hash. uv builds them when it is present,
else venv and pip.

Creating the environment runs no package code; installing may (a requirement without a
wheel is built from source by its own setup code), so with the sandbox on it runs in one:
the index reachable, only the environment and a build folder of its own writable.
"""

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils.translation import gettext_noop

from aicenter.wording import say
from pipelines.runner import egress, sandbox
from pipelines.runner.workspace import RunUser, give, run_user, worker_folder

READY_MARKER = ".ready"
SIZE_MARKER = ".size"
LAST_LINES = 25


NO_PYTHON = gettext_noop("Python %(version)s is not available on this worker.")
INSTALL_TIMED_OUT = gettext_noop("Installing the requirements took longer than %(seconds)s s.")
# What the installer wrote follows as it wrote it.
INSTALL_FAILED = gettext_noop("Installing the requirements failed:\n%(output)s")


class EnvironmentBuildError(Exception):
    """The environment could not be built; the message ends with the installer's last lines."""


def environment_key(python_version: str, requirements: str) -> str:
    lines = sorted(line.strip() for line in requirements.splitlines() if line.strip())
    text = "\n".join([f"python {python_version}", *lines])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def environments_root() -> Path:
    return Path(settings.WORKER_DIR) / "envs"


def ensure_environment(
    python_version: str, requirements: str, on_build: Callable[[], None] = lambda: None
) -> Path:
    """The Python executable of a ready environment; builds it first if needed."""
    root = environments_root() / environment_key(python_version, requirements)
    python = root / "bin" / "python"
    lease(root)
    if mark_used(root):
        return python
    with host_lock(root.with_suffix(".lock")):
        if mark_used(root):
            return python
        on_build()
        shutil.rmtree(root, ignore_errors=True)
        build(root, find_interpreter(python_version), requirements)
        (root / SIZE_MARKER).write_text(str(folder_size(root)))
        (root / READY_MARKER).write_text(requirements)
    return python


def mark_used(root: Path) -> bool:
    """Whether the environment is ready; its marker's time says when it was last used."""
    try:
        os.utime(root / READY_MARKER)
    except FileNotFoundError:
        return False
    return True


def folder_size(folder: Path) -> int:
    return sum(
        (Path(top) / name).lstat().st_size
        for top, _, files in os.walk(folder, followlinks=False)
        for name in files
    )


def use_lock(root: Path) -> Path:
    """Runs hold it shared while they use the environment; eviction tries it exclusively."""
    return root.with_suffix(".use")


# The environments the current run holds; eviction leaves them alone until it ends.
_leases: ContextVar[list[IO] | None] = ContextVar("environment_leases", default=None)


@contextmanager
def leases():
    """Every environment made ready within this block stays on the worker until it ends."""
    held: list[IO] = []
    token = _leases.set(held)
    try:
        yield
    finally:
        _leases.reset(token)
        for handle in held:
            handle.close()  # which releases its lock


def lease(root: Path) -> None:
    held = _leases.get()
    if held is None:
        return
    path = use_lock(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a")  # noqa: SIM115 - closed when the leases end
    fcntl.flock(handle, fcntl.LOCK_SH)
    held.append(handle)


@contextmanager
def host_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def find_interpreter(version: str) -> str:
    """A working interpreter of that version: this one, one on PATH, or one of pyenv's."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys._base_executable
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [shutil.which(f"python{version}")] + sorted(
        glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True
    )
    for candidate in filter(None, candidates):
        if runs(candidate, version):
            return candidate
    raise EnvironmentBuildError(say(NO_PYTHON, version=version))


def runs(executable: str, version: str) -> bool:
    check = f"import sys; sys.exit(sys.version[:{len(version)}] != '{version}')"
    try:
        return (
            subprocess.run([executable, "-c", check], capture_output=True, timeout=30).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def uv_executable() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else shutil.which("uv")


def build(root: Path, interpreter: str, requirements: str) -> None:
    uv = uv_executable()
    if uv:
        uv = os.path.realpath(uv)  # the sandbox shows the binary itself, not a link to it
        install(
            [uv, "venv", "--quiet", "--python", interpreter, str(root)],
            [uv, "pip", "install", "--python", str(root / "bin" / "python"), "--compile-bytecode"],
            root,
            requirements,
        )
    else:
        install(
            [interpreter, "-m", "venv", str(root)],
            [str(root / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"],
            root,
            requirements,
        )


def install(create: list[str], pip: list[str], root: Path, requirements: str) -> None:
    installer_run(create)
    if requirements.strip():
        listed = root / "requirements.txt"
        listed.write_text(requirements)
        command = [*pip, "-r", str(listed)]
        if sandbox.enabled():
            confined_install(command, root)
        else:
            installer_run(command)


def confined_install(command: list[str], root: Path) -> None:
    """The install in a sandbox, as RUN_AS_USER when the worker is root, reaching the
    package index through the network gate only: never the service's hosts.

    Its cache is a folder of its own, removed afterwards: the worker's shared cache would
    let one project's build plant a wheel that another project's environment installs.
    """
    user, program = run_user(), Path(command[0])
    sandbox.check(user)
    folder = Path(settings.WORKER_DIR) / "builds" / root.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if user is not None:
        give(root, user, with_files=True)
        give(folder, user, with_files=True)
    python = root / "bin" / "python"
    try:
        with egress.gate() as gate, gate.explaining(EnvironmentBuildError):
            installer_run(
                sandbox.confine(
                    gate.wrapped(python, command),
                    env={**builder_environment(folder), **gate.environment()},
                    cwd=folder,
                    writable=[root, folder],
                    read_only=[
                        sandbox.python_home(python),
                        *([] if root in program.parents else [program]),  # uv, not pip
                        *installer_paths(),
                        gate.folder,
                    ],
                    user=user,
                ),
                sandbox.LAUNCHER_ENVIRONMENT,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if user is not None:
            # Back to the worker, so no later run's user can change the environment.
            give(root, RunUser("worker", os.geteuid(), os.getegid()), with_files=True)


# The installer may need the host's index, proxy and certificate settings, never its secrets.
NETWORK_VARIABLES = {
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
}


def installer_environment() -> dict[str, str]:
    """The home folder is where the installers read their configuration; what they write,
    caches and temporary files, goes to the worker's folder, or to a cache the operator
    named (UV_CACHE_DIR, PIP_CACHE_DIR)."""
    passed = {
        name: value
        for name, value in os.environ.items()
        if name in NETWORK_VARIABLES or name.startswith(("UV_", "PIP_"))
    }
    return {
        **worker_caches(),
        **passed,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - a fallback  # nosec B108
        "TMPDIR": str(worker_folder("tmp")),
        "UV_PYTHON_DOWNLOADS": "never",
        "LANG": "C.UTF-8",
    }


def worker_caches() -> dict[str, str]:
    """Where an installer outside a sandbox keeps its cache (creating an environment, or
    every install with RUN_SANDBOX=off): the worker's, shared by its builds."""
    cache = worker_folder("cache")
    return {"UV_CACHE_DIR": str(cache / "uv"), "PIP_CACHE_DIR": str(cache / "pip")}


def installer_paths() -> list[Path]:
    """Files and folders the installer's settings name (certificates, local indexes),
    which a sandboxed installer must see; the system's own are visible already."""
    named = [
        Path(value)
        for name, value in installer_environment().items()
        if name not in {"PATH", *BUILD_VARIABLES} and value.startswith("/")
    ]
    return [path for path in named if path.exists() and not visible(path)]


def visible(path: Path) -> bool:
    shown = [Path(folder) for folder in sandbox.SYSTEM + sandbox.ETC]
    return any(path == folder or folder in path.parents for folder in shown)


# Where a sandboxed install keeps its home, caches and temporary files, in its own folder.
BUILD_VARIABLES = {
    "HOME": "",
    "TMPDIR": "",
    "UV_CACHE_DIR": "cache",
    "PIP_CACHE_DIR": "cache",
}


def builder_environment(folder: Path) -> dict[str, str]:
    own = {name: str(folder / below) for name, below in BUILD_VARIABLES.items()}
    # The cache is another mount than the environment: uv would try to link, then copy.
    return {**installer_environment(), **own, "UV_LINK_MODE": "copy"}


def installer_run(command: list[str], env: dict[str, str] | None = None) -> None:
    env = env or installer_environment()
    try:
        result = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=settings.ENVIRONMENT_BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentBuildError(
            say(INSTALL_TIMED_OUT, seconds=settings.ENVIRONMENT_BUILD_TIMEOUT)
        ) from None
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-LAST_LINES:]
        raise EnvironmentBuildError(say(INSTALL_FAILED, output="\n".join(tail)))
