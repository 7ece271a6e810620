import subprocess
import sys

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


def test_an_unknown_python_version_is_refused_clearly():
    with pytest.raises(EnvironmentBuildError, match="Python 3.99 is not available"):
        find_interpreter("3.99")
