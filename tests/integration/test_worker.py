"""A real qcluster process takes tasks from the configured broker (ORM or Redis)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_q.models import Success
from django_q.tasks import async_task

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def database_url_of(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user, host, port = settings_dict["USER"], settings_dict["HOST"], settings_dict["PORT"]
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def worker():
    env = {**os.environ, "DATABASE_URL": database_url_of(connection.settings_dict)}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_worker_runs_a_queued_task_and_stores_its_result(worker):
    task_id = async_task("math.floor", 2.5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Success.objects.filter(id=task_id).exists():
        time.sleep(0.2)
    assert Success.objects.get(id=task_id).result == 2
