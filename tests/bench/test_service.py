"""The benchmarks' throwaway service: its S3 rows use SeaweedFS, and the folder again after."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.s3server import weed_binary

ROOT = Path(__file__).resolve().parents[2]
SWITCH_STORES = """
import sys
from pathlib import Path

from bench.service import start_django, store

start_django(Path(sys.argv[1]))
from aicenter.store import get_store

print(type(get_store()).__name__)
with store("s3"):
    print(type(get_store()).__name__)
print(type(get_store()).__name__)
"""


def test_the_s3_store_of_the_benchmarks_replaces_the_folder_only_while_it_runs(tmp_path):
    if weed_binary() is None:
        pytest.skip("SeaweedFS is not installed")
    done = subprocess.run(
        [sys.executable, "-c", SWITCH_STORES, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LocalStore", "S3Store", "LocalStore"]
