import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from pipelines.runner.environments import (
    EnvironmentBuildError,
    ensure_environment,
    environment_key,
    find_interpreter,
)

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(autouse=True)
def worker_dir(settings, tmp_path):
    settings.WORKER_DIR = tmp_path / "worker"
    return settings.WORKER_DIR


def test_same_requirements_in_another_order_share_an_environment():
    assert environment_key("3.12", "b==1\na==2\n") == environment_key("3.12", "a==2\n\nb==1")
    assert environment_key("3.12", "a==2") != environment_key("3.13", "a==2")


def test_empty_requirements_build_a_bare_environment_once():
    builds = []
    python = ensure_environment(PYTHON, "", on_build=lambda: builds.append(1))
    again = ensure_environment(PYTHON, "", on_build=lambda: builds.append(1))
    assert python == again
    assert builds == [1]
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.prefix != sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"


def test_a_failed_install_reports_the_installers_last_lines(worker_dir):
    with pytest.raises(EnvironmentBuildError) as failed:
        ensure_environment(PYTHON, "this-package-does-not-exist-anywhere==0.0.1\n")
    assert "Installing the requirements failed" in str(failed.value)
    assert "this-package-does-not-exist-anywhere" in str(failed.value)
    assert not list((worker_dir / "envs").glob("*/.ready"))


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """The worker's home and temporary folders, which a build must leave empty."""
    folders = {"HOME": tmp_path / "home", "TMPDIR": tmp_path / "tmp"}
    for name, folder in folders.items():
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
    monkeypatch.delenv("UV_CACHE_DIR", raising=False)
    return folders


def test_a_build_keeps_its_caches_and_temporary_files_in_the_worker_folder(worker_dir, outside):
    ensure_environment(PYTHON, "")
    assert [path for folder in outside.values() for path in folder.rglob("*")] == []
    assert list((worker_dir / "cache" / "uv").iterdir())


def test_an_operators_uv_cache_is_used_outside_the_sandbox(
    worker_dir, outside, tmp_path, monkeypatch
):
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "operator"))
    ensure_environment(PYTHON, "")
    assert list((tmp_path / "operator").iterdir())
    assert not (worker_dir / "cache" / "uv").exists()


def test_an_unknown_python_version_is_refused_clearly():
    with pytest.raises(EnvironmentBuildError, match="Python 3.99 is not available"):
        find_interpreter("3.99")


PROBE_METADATA = "Metadata-Version: 2.1\nName: planting-probe\nVersion: 0.1\n"
PLANTING_BACKEND = """
import pathlib, zipfile

for target in {targets!r}:
    try:
        pathlib.Path(target).write_text("planted")
    except OSError:
        pass


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "planting_probe-0.1-py3-none-any.whl"
    info = "planting_probe-0.1.dist-info/"
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / name, "w") as wheel:
        wheel.writestr("planting_probe.py", "")
        wheel.writestr(info + "METADATA", {metadata!r})
        wheel.writestr(info + "WHEEL", "Wheel-Version: 1.0\\nTag: py3-none-any\\n")
        wheel.writestr(info + "RECORD", "")
    return name
"""


def planting_sdist(index: Path, targets: list[Path]) -> None:
    """A source distribution whose build backend writes to `targets` when it is loaded."""
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n',
        "backend.py": PLANTING_BACKEND.format(
            targets=[str(target) for target in targets], metadata=PROBE_METADATA
        ),
        "PKG-INFO": PROBE_METADATA,
    }
    index.mkdir()
    with tarfile.open(index / "planting_probe-0.1.tar.gz", "w:gz") as sdist:
        for name, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(f"planting_probe-0.1/{name}")
            member.size = len(data)
            sdist.addfile(member, io.BytesIO(data))


def test_a_source_build_writes_nothing_outside_its_sandbox(worker_dir, tmp_path, monkeypatch):
    targets = [tmp_path / "planted", worker_dir / "planted"]
    planting_sdist(tmp_path / "index", targets)
    monkeypatch.setenv("UV_FIND_LINKS", str(tmp_path / "index"))
    monkeypatch.setenv("UV_OFFLINE", "1")
    python = ensure_environment(PYTHON, "planting-probe==0.1\n")
    imported = subprocess.run([python, "-c", "import planting_probe"], capture_output=True)
    assert imported.returncode == 0, imported.stderr
    assert [target for target in targets if target.exists()] == []
    owners = {entry.lstat().st_uid for entry in python.parent.parent.rglob("*")}
    assert owners == {os.geteuid()}
    assert not (worker_dir / "builds" / python.parent.parent.name).exists()
