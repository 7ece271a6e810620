"""8. `aicenter dataset push` against plain concurrent PUTs of the same files through the API,
and a second push of the unchanged folder against the first.

The push is the command's own function, called in this process: the interpreter's start
(about half a second, more on a loaded machine) is the same for any command and would
hide what the push itself costs.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.data import MB, random_files
from bench.measure import Row, Target, paired, timed
from bench.service import Bench

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(1000, 10 * 1024), (10, 50 * MB)]
QUICK_SIZES = [(100, 10 * 1024), (2, 5 * MB)]
PUSH_TARGET = Target("ratio", 1.2, "ratio <= 1.2")
RESUME_TARGET = Target("ratio", 0.05, "ratio < 0.05")
AT_ONCE = 8  # the client's concurrency, given to the baseline too


def client(bench: Bench) -> list[Row]:
    from aicenter.models import ApiToken

    project = bench.project("client")
    token = ApiToken.issue(bench.owner, "bench")[1]
    rows = []
    os.environ["AICENTER_CACHE_DIR"] = str(bench.scratch("hash-cache"))
    with served(bench.scratch("gunicorn") / "server.log") as url:
        environment = {"AICENTER_URL": url, "AICENTER_TOKEN": token}
        for count, size in QUICK_SIZES if bench.quick else SIZES:
            rows += push_rows(bench, environment, project, count, size)
    return rows


@contextlib.contextmanager
def served(log: Path) -> Iterator[str]:
    """The service behind gunicorn, as in production, on a free loopback port; what it says
    goes to `log`, not into the table."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "aicenter.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "2", "--threads", "4"]
    with open(log, "ab") as said:
        server = subprocess.Popen(command, cwd=ROOT, stdout=said, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{url}/healthz", timeout=2)  # noqa: S310 - loopback
            return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def push_rows(bench: Bench, environment: dict, project, count: int, size: int) -> list[Row]:
    import requests

    sys.path.insert(0, str(ROOT / "client"))  # where bin/setup has not installed it
    from aicenter_client import Client
    from aicenter_client.push import push_folder

    from datasets.tree import create_dataset

    folder = bench.scratch(f"push-{count}")
    files = random_files(folder, count, size)
    dataset = create_dataset(project, name=f"push-{count}", user=bench.owner)
    base = f"{environment['AICENTER_URL']}/api/v1/projects/{project.id}/datasets/{dataset.id}"
    headers = {"Authorization": f"Bearer {environment['AICENTER_TOKEN']}"}
    api = Client(environment["AICENTER_URL"], environment["AICENTER_TOKEN"])

    def emptied():
        for target in ("pushed", "plain"):
            requests.delete(f"{base}/files/{target}", headers=headers, timeout=60)

    def pushed():
        push_folder(api, project.id, dataset.id, folder, "pushed", quiet=True)

    def plain():
        with requests.Session() as session, ThreadPoolExecutor(AT_ONCE) as pool:
            session.headers.update(headers)
            list(pool.map(lambda item: put(session, base, *item), files))

    # The store keeps each content once: a first upload, untimed, stores the bytes for both.
    pushed()
    service, baseline = paired(bench.repeats(3), emptied, pushed, plain)
    emptied()
    # The first push of a folder hashes it all: a machine that never pushed it has no cache.
    for cached in Path(os.environ["AICENTER_CACHE_DIR"]).glob("hashes.sqlite3*"):
        cached.unlink()
    first = [timed(pushed)]
    again = [timed(pushed) for _ in range(bench.repeats(3))]
    label = f"{count} x {describe(size)}"
    return [
        Row(
            "8 client",
            f"dataset push of {label}",
            "s",
            service,
            f"concurrent PUTs ({AT_ONCE} at once)",
            baseline,
            PUSH_TARGET,
        ),
        Row(
            "8 client",
            f"dataset push again of {label}, unchanged",
            "s",
            again,
            "the first push",
            first,
            RESUME_TARGET,
        ),
    ]


def put(session, base: str, relative: str, path: Path) -> None:
    with open(path, "rb") as body:
        session.put(f"{base}/files/plain/{relative}", data=body, timeout=300).raise_for_status()


def describe(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size // 1024} KB"
