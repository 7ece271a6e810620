"""A worker running as root runs the user's code as an unprivileged user."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from aicenter.store import get_store
from packages.models import MLPackage
from pipelines.models import Status
from tests.factories import api_client
from tests.integration.test_runs import FAST, finished, started_run
from tests.pipelines.builders import dataset_with, package_version_with

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
RUN_AS = "nobody"

PROBING = """\
import json, os
from pathlib import Path

def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as error:
        return type(error).__name__

class Main:
    def train(self, training_directory):
        data_file = next(p for p in Path(training_directory).rglob("*") if p.is_file())
        blobs = Path(os.environ["data_directory"]).parents[2] / "blobs"
        seen = {
            "uid": os.getuid(),
            "env": dict(os.environ),
            "read_data_file": attempt(data_file.read_bytes),
            "write_data_file": attempt(lambda: open(data_file, "a").close()),
            "chmod_data_file": attempt(lambda: data_file.chmod(0o666)),
            "write_blob_cache": attempt(lambda: (blobs / "planted").write_text("x")),
            "list_blob_cache": attempt(lambda: list(blobs.iterdir())),
            "list_other_runs": attempt(lambda: list(Path.cwd().parents[1].iterdir())),
            "list_store": attempt(lambda: list(Path(os.environ["store_root"]).iterdir())),
            "read_worker_environment": attempt(
                lambda: Path(f"/proc/{os.getppid()}/environ").read_bytes()
            ),
        }
        Path("model.txt").write_text("trained")
        Path(os.environ["HOME"], "cache").write_text("ok")
        Path(os.environ["artifacts_directory"], "seen.json").write_text(json.dumps(seen))

    def save(self):
        pass
"""


def interpreter_the_user_can_run() -> tuple[str, str] | None:
    """(version, path) of a system Python that RUN_AS can execute."""
    for version in ["3.13", "3.12", "3.11"]:
        path = shutil.which(f"python{version}", path="/usr/local/bin:/usr/bin")
        if path and subprocess.run([path, "-c", ""], user=RUN_AS, check=False).returncode == 0:
            return version, path
    return None


@pytest.fixture
def system_python():
    if os.geteuid() != 0:
        pytest.skip("the worker drops privileges only when it runs as root")
    found = interpreter_the_user_can_run()
    if found is None:
        reason = f"no system Python that user {RUN_AS} can run"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def reachable_worker_dir():
    """A worker folder the unprivileged user can enter (pytest's own tmp folders are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="aicenter-worker-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_user_code_runs_unprivileged_and_cannot_touch_the_cache_the_store_or_the_worker(
    workers, project, owner, system_python, reachable_worker_dir, settings
):
    store_root = reachable_worker_dir / "store"
    settings.STORE = {"kind": "local", "root": str(store_root)}
    workers.start(RUN_AS_USER=RUN_AS, AICENTER_WORKER_DIR=reachable_worker_dir, **FAST)
    version = package_version_with(project, owner, PROBING)
    # The package asks for the Python version the unprivileged user can run here.
    MLPackage.objects.filter(id=version.package_id).update(python_version=system_python[0])
    data = dataset_with(project, "tiny", {"train/a.csv": b"1,2\n"})
    parameters = {"store_root": str(store_root)}
    api = api_client(owner)
    run = finished(started_run(api, project, version, input_dataset=data.id, parameters=parameters))
    assert run.status == Status.SUCCESSFUL, run.error
    seen = json.loads(get_store().get_bytes(f"runs/{run.id}/artifacts/seen.json"))
    assert seen["uid"] != 0
    assert seen["read_data_file"] == "allowed"
    assert seen["write_data_file"] == "PermissionError"
    assert seen["chmod_data_file"] == "PermissionError"
    assert seen["write_blob_cache"] == "PermissionError"
    assert seen["list_blob_cache"] == "PermissionError"
    assert seen["list_other_runs"] == "PermissionError"
    assert seen["list_store"] == "PermissionError"
    assert seen["read_worker_environment"] == "PermissionError"
    assert "SECRET_KEY" not in seen["env"]
    assert not list(reachable_worker_dir.rglob("planted"))
    assert run.produced_version.label == "1.1"
