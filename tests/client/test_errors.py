"""Bad input gets a clear message and an exit code a script can rely on."""

import json
import socket
import stat
from pathlib import Path

import pytest

from packages.models import MLPackage
from tests.client.conftest import write_tree
from tests.factories import MAIN_PY
from tests.pipelines.builders import example_version

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_wrong_token_exits_4_saying_the_token_was_refused(aicenter):
    done = aicenter("projects", AICENTER_TOKEN="aic_wrong")
    assert done.returncode == 4
    assert "refused the token" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_server_that_is_down_exits_4_saying_it_cannot_be_reached(aicenter):
    done = aicenter("pipelines", AICENTER_URL=f"http://127.0.0.1:{closed_port()}")
    assert done.returncode == 4
    assert "cannot be reached" in done.stderr


def test_a_refused_zip_exits_1_printing_every_problem(aicenter, project, tmp_path):
    # A Main without train, evaluate or save: one problem each.
    files = {"main.py": MAIN_PY, "train.py": "class Main:\n    pass\n"}
    folder = write_tree(tmp_path / "broken", files)
    done = aicenter("package", "push", str(folder), "--name", "broken")
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) >= 2, done.stderr
    assert "train" in done.stderr
    assert not MLPackage.objects.filter(project=project, name="broken").exists()


def test_a_pipeline_that_does_not_exist_exits_1_naming_it(aicenter):
    done = aicenter("run", "no-such-pipeline", "--follow")
    assert done.returncode == 1
    assert "No pipeline named 'no-such-pipeline'" in done.stderr


def test_a_malformed_param_is_a_usage_error(aicenter):
    done = aicenter("run", "nightly", "--param", "epochs")
    assert done.returncode == 2
    assert "KEY=VALUE" in done.stderr


def test_login_checks_the_token_and_stores_it_privately(aicenter, live_server, token):
    without = {"AICENTER_URL": "", "AICENTER_TOKEN": ""}
    refused = aicenter("login", live_server.url, "--token", "aic_wrong", **without)
    assert refused.returncode == 4
    done = aicenter("login", live_server.url, "--token", token, **without)
    assert done.returncode == 0, done.stderr
    stored = Path(aicenter.environment["XDG_CONFIG_HOME"]) / "aicenter" / "config.json"
    assert json.loads(stored.read_text()) == {"url": live_server.url, "token": token}
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    listed = aicenter("projects", "--json", **without)
    assert [p["name"] for p in json.loads(listed.stdout)] == ["Vision"]


def test_lists_print_tables_and_json(aicenter, project, owner):
    example_version(project, owner)
    table = aicenter("packages")
    assert table.returncode == 0
    assert "flowers-stdlib" in table.stdout and "1.0" in table.stdout
    listed = json.loads(aicenter("packages", "--json").stdout)
    assert listed[0]["latest_version"]["version"] == "1.0"
    empty = aicenter("datasets")
    assert (empty.returncode, empty.stderr.strip()) == (0, "No datasets.")
