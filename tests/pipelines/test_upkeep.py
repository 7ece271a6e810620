"""A worker removes the workspaces its lost or finished runs left behind, and only those."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.models import Run, Status
from pipelines.runner import egress
from pipelines.runner.run import host_name
from pipelines.runner.workspace import Workspace
from pipelines.upkeep import remove_lost_gates, remove_lost_workspaces, tidy_host
from tests.pipelines.builders import dataset_with, example_version, run_of, training_pipeline


@pytest.fixture(autouse=True)
def worker_dir(settings, tmp_path):
    settings.WORKER_DIR = tmp_path / "worker"
    settings.WORKER_NAME = "host-a"
    return settings.WORKER_DIR


@pytest.fixture
def pipeline(project, owner):
    version = example_version(project, owner)
    return training_pipeline(project, owner, version, dataset_with(project, "d", {"a": b"1"}))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def workspace_of(pipeline, status: str, worker: str) -> Path:
    return Workspace.create(run_of(pipeline, status, worker=worker).id).root


def test_workspaces_of_ended_or_orphaned_runs_of_this_host_are_removed(pipeline, worker_dir):
    here = host_name()
    ended = workspace_of(pipeline, Status.FAILED, f"{here}:1")
    orphaned = workspace_of(pipeline, Status.RUNNING, f"{here}:{dead_pid()}")
    running = workspace_of(pipeline, Status.RUNNING, f"{here}:{os.getpid()}")
    elsewhere = workspace_of(pipeline, Status.SUCCESSFUL, "host-b:1")
    deleted = workspace_of(pipeline, Status.SUCCESSFUL, f"{here}:1")
    Run.objects.filter(id=int(deleted.name.split("-")[0])).delete()
    stranger = worker_dir / "runs" / "notes"
    stranger.mkdir()

    assert remove_lost_workspaces() == 3
    assert not ended.exists() and not orphaned.exists() and not deleted.exists()
    assert running.exists() and elsewhere.exists() and stranger.exists()


def test_tidying_a_new_worker_folder_finds_nothing_to_do(db, worker_dir):
    tidy_host()
    assert not (worker_dir / "runs").exists()


def test_a_network_gate_left_by_a_killed_process_is_removed_and_a_live_one_kept(db, worker_dir):
    gates = worker_dir / "gates"
    lost, live, stranger = (
        gates / f"gate-{dead_pid()}-abc",
        gates / f"gate-{os.getpid()}-def",
        gates / "gate-notes",
    )
    for folder in (lost, live, stranger):
        folder.mkdir(parents=True)
        (folder / "bridge.py").write_text("")
    tidy_host()
    assert not lost.exists() and live.exists() and stranger.exists()


def test_a_gate_folder_is_named_after_its_process(db, worker_dir):
    with egress.gate() as gate:
        assert egress.gate_owner(gate.folder) == os.getpid()
        assert remove_lost_gates() == 0 and gate.socket.exists()
