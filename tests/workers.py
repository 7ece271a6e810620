"""Real qcluster worker processes sharing this process's database, broker and store.

The integration tests and the benchmarks both start workers this way.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user, host, port = settings_dict["USER"], settings_dict["HOST"], settings_dict["PORT"]
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


def store_environment(store: dict) -> dict:
    if store["kind"] == "local":
        return {"STORAGE_URL": store["root"]}
    return {
        "STORAGE_URL": f"s3://{store['bucket']}/{store['prefix']}",
        "S3_ENDPOINT_URL": store["endpoint_url"],
        "S3_ACCESS_KEY_ID": store["access_key_id"],
        "S3_SECRET_ACCESS_KEY": store["secret_access_key"],
        "S3_REGION": store["region"],
    }


class Workers:
    """Starts worker processes that each act as a separate host."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str = "host-a", account=None, **variables) -> subprocess.Popen:
        """A worker named `name`; `account` (a pwd entry) runs it as that user instead of ours."""
        env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "SECRET_KEY": settings.SECRET_KEY,
            "AICENTER_WORKER_DIR": str(self.tmp_path / name),
            "WORKER_NAME": name,
            "Q_WORKERS": "2",
            **store_environment(settings.STORE),
            **{key: str(value) for key, value in variables.items()},
        }
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        as_account = {}
        if account is not None:
            as_account = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            env["HOME"] = env["AICENTER_WORKER_DIR"]
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **as_account,
        )
        process.log = log
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the whole worker, as a crash would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        # Only the cluster's main process: it stops its own workers (in about 3 s).
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.log.close()


def wait_for(condition, timeout: float = 60, every: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
