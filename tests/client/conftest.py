"""The real `aicenter` command, in a subprocess, against a live test server."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from aicenter.models import ApiToken
from tests.workers import ROOT

# The client's own folder, so the command runs from this checkout even where bin/setup has
# not installed it: `python -m aicenter_client` is what the `aicenter` script calls.
CLIENT = ROOT / "client"
if str(CLIENT) not in sys.path:
    sys.path.insert(0, str(CLIENT))


@dataclass
class Command:
    environment: dict

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "aicenter_client", *args]

    def __call__(self, *args: str, timeout: float = 120, **variables):
        env = {**self.environment, **variables}
        return subprocess.run(
            self.argv(*args), env=env, capture_output=True, text=True, timeout=timeout
        )

    def start(self, *args: str, **variables) -> subprocess.Popen:
        return subprocess.Popen(
            self.argv(*args),
            env={**self.environment, **variables},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )


@pytest.fixture
def token(owner) -> str:
    return ApiToken.issue(owner, "command line")[1]


@pytest.fixture
def aicenter(live_server, token, project, tmp_path) -> Command:
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(CLIENT), os.environ.get("PYTHONPATH", "")]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "AICENTER_CACHE_DIR": str(tmp_path / "hash-cache"),
        "AICENTER_URL": live_server.url,
        "AICENTER_TOKEN": token,
        "AICENTER_PROJECT": project.name,
    }
    return Command(environment)


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        target.write_bytes(content)
    return root
