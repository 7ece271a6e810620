"""Virtual environments for package versions: one per requirements and Python version.

Environments live on each worker, are built once under a file lock (one builder
per host at a time) and are reused by hash. uv builds them when it is present,
else venv and pip.
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
from pathlib import Path

from django.conf import settings

READY_MARKER = ".ready"
LAST_LINES = 25


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
    if (root / READY_MARKER).exists():
        return python
    with host_lock(root.with_suffix(".lock")):
        if (root / READY_MARKER).exists():
            return python
        on_build()
        shutil.rmtree(root, ignore_errors=True)
        build(root, find_interpreter(python_version), requirements)
        (root / READY_MARKER).write_text(requirements)
    return python


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
    raise EnvironmentBuildError(f"Python {version} is not available on this worker.")


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
        installer_run([*pip, "-r", str(listed)])


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
    passed = {
        name: value
        for name, value in os.environ.items()
        if name in NETWORK_VARIABLES or name.startswith(("UV_", "PIP_"))
    }
    return {
        **passed,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - a cache fallback  # nosec B108
        "UV_PYTHON_DOWNLOADS": "never",
        "LANG": "C.UTF-8",
    }


def installer_run(command: list[str]) -> None:
    env = installer_environment()
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
            f"Installing the requirements took longer than {settings.ENVIRONMENT_BUILD_TIMEOUT} s."
        ) from None
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-LAST_LINES:]
        raise EnvironmentBuildError("Installing the requirements failed:\n" + "\n".join(tail))
