"""The benchmark command still runs: its quick mode on one cheap benchmark."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_staging_benchmark_prints_a_table_and_writes_its_figures(tmp_path):
    output = tmp_path / "figures.json"
    command = [sys.executable, "-m", "bench", "--quick", "--only", "staging", "--stores", "local"]
    done = subprocess.run(
        [*command, "--output", str(output)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "| 3 staging | warm, 100 x 10 KB, local folder |" in done.stdout
    rows = json.loads(output.read_text())["rows"]
    assert {row["benchmark"] for row in rows} == {"3 staging"}
    assert all(row["median"] > 0 and row["ratio"] > 0 for row in rows)


def test_the_quick_client_benchmark_times_pushes_against_plain_puts(tmp_path):
    output = tmp_path / "figures.json"
    command = [sys.executable, "-m", "bench", "--quick", "--only", "client"]
    done = subprocess.run(
        [*command, "--output", str(output)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(output.read_text())["rows"]
    assert [row["measure"] for row in rows] == [
        "dataset push of 100 x 10 KB",
        "dataset push again of 100 x 10 KB, unchanged",
        "dataset push of 2 x 5 MB",
        "dataset push again of 2 x 5 MB, unchanged",
    ]
    assert all(row["median"] > 0 and row["ratio"] > 0 for row in rows)
