"""The walkthrough of the README, with the real command against a live server and real
workers: push a package and a folder, run with --follow, pull every output."""

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from aicenter.store import get_store
from datasets.models import Dataset
from packages.models import MLPackage
from pipelines.models import Run, Status
from tests.client.conftest import write_tree
from tests.factories import MAIN_PY, api_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
FAST = {"HEARTBEAT_SECONDS": 1, "KILL_GRACE_SECONDS": 1}

TRAIN_PY = """\
import os, time
from pathlib import Path


class Main:
    def __init__(self):
        self.rows = 0

    def train(self, training_directory):
        print("training with epochs", os.environ["epochs"], flush=True)
        time.sleep(float(os.environ.get("pause", "0")))
        self.rows = sum(1 for p in Path(training_directory).rglob("*.csv"))
        if os.environ.get("outcome") == "fail":
            raise RuntimeError("asked to fail")
        artifacts = Path(os.environ["artifacts_directory"])
        (artifacts / "plots").mkdir(parents=True)
        (artifacts / "model.txt").write_text(f"{self.rows} files")
        (artifacts / "plots" / "curve.bin").write_bytes(bytes(range(256)) * 300)
        print("trained", flush=True)

    def evaluate(self, evaluation_directory):
        return 0.5

    def save(self):
        Path("weights.txt").write_text(str(self.rows))
"""
DATA = {f"train/{n}.csv": f"x\n{n}\n" for n in range(30)}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def pipeline(aicenter, project, owner, tmp_path) -> dict:
    """A package and a dataset pushed with the command; a pipeline that waits to be run."""
    files = {"train.py": TRAIN_PY, "main.py": MAIN_PY, "requirements.txt": ""}
    package = write_tree(tmp_path / "pkg", files)
    write_tree(package, {".git/HEAD": "ref", "__pycache__/train.pyc": b"\0"})
    pushed = aicenter("package", "push", str(package), "--name", "counter")
    assert pushed.returncode == 0, pushed.stderr
    assert "Uploaded counter version 1.0" in pushed.stdout
    data = write_tree(tmp_path / "data", DATA)
    assert aicenter("dataset", "push", str(data), "--dataset", "rows", "-q").returncode == 0
    body = {
        "name": "nightly",
        "type": "training",
        "package": MLPackage.objects.get(name="counter").id,
        "version": "1.0",
        "input_dataset": Dataset.objects.get(name="rows").id,
        "parameters": {"epochs": "1", "save_training_data": "true"},
        "schedule": {"kind": "once", "at": "2999-01-01T00:00:00+00:00"},
    }
    created = api_client(owner).post(
        f"/api/v1/projects/{project.id}/pipelines", json.dumps(body), "application/json"
    )
    assert created.status_code == 201, created.json()
    return created.json()


def test_run_follow_prints_the_log_live_and_pull_fetches_every_output(
    aicenter, pipeline, workers, tmp_path
):
    workers.start(**FAST)
    following = aicenter.start(
        "run", "nightly", "--param", "epochs=7", "--param", "pause=3", "--follow"
    )
    first = following.stdout.readline()
    run = Run.objects.get(pipeline_id=pipeline["id"])
    assert run.status not in {Status.SUCCESSFUL, Status.FAILED}, "the line came after the end"
    rest, errors = following.communicate(timeout=180)
    assert following.returncode == 0, errors
    assert "training with epochs 7" in first + rest
    assert "trained" in rest
    run.refresh_from_db()
    assert run.status == Status.SUCCESSFUL
    assert run.pipeline.parameters["epochs"] == "1"  # the override was the run's alone

    out = tmp_path / "out"
    pulled = aicenter("pull", str(run.id), "-o", str(out))
    assert pulled.returncode == 0, pulled.stderr
    store = get_store()
    for artifact in run.artifacts.all():
        local = out / "artifacts" / artifact.path
        assert local.read_bytes() == store.get_bytes(artifact.key)
        assert sha(local) == artifact.sha256
    assert {a.path for a in run.artifacts.all()} == {"model.txt", "plots/curve.bin"}
    for file in run.snapshot.files.all():
        assert (out / "snapshot" / file.path).read_text() == DATA[file.path]
    version = run.produced_version
    zipped = out / f"counter-{version.label}.zip"
    assert zipped.read_bytes() == store.get_bytes(version.zip_key)
    assert "weights.txt" in zipfile.ZipFile(zipped).namelist()
    assert json.loads((out / "_results.json").read_text()) == run.results


def test_run_follow_exits_1_when_the_run_fails_and_3_when_it_is_killed(aicenter, pipeline, workers):
    workers.start(**FAST)
    failed = aicenter("run", "nightly", "--param", "outcome=fail", "--follow")
    assert failed.returncode == 1
    assert "asked to fail" in failed.stderr

    following = aicenter.start("run", "nightly", "--param", "pause=60", "--follow")
    for line in following.stdout:  # the run's own lines come after the service's
        if "training with epochs" in line:
            break
    run = Run.objects.filter(pipeline_id=pipeline["id"]).order_by("-id").first()
    killed = aicenter("kill", str(run.id))
    assert killed.returncode == 0, killed.stderr
    following.communicate(timeout=60)
    assert following.returncode == 3
