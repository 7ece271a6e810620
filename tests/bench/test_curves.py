"""The curves still draw: their quick mode, small sizes, every path but the burst."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_curves_print_their_table_and_write_their_figures_and_chart(tmp_path):
    output = tmp_path / "curves.json"
    command = [sys.executable, "-m", "bench", "--curves", "--quick", "--output", str(output)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert "| staging cold, local folder | concurrent copies | 2: " in done.stdout
    curves = {curve["path"]: curve for curve in json.loads(output.read_text())["curves"]}
    assert {"dataset ingest through the API, local folder", "run details", "activity"} <= set(
        curves
    )
    assert [point["size"] for point in curves["run details"]["points"]] == [10, 100, 1000]
    for curve in curves.values():
        assert len(curve["points"]) == 3
        assert all(point["median"] > 0 and point["ratio"] > 0 for point in curve["points"])
        assert isinstance(curve["exponent"], float)
    assert curves["activity"]["points"][0]["queries"] > 0
    chart = output.with_suffix(".svg").read_text()
    assert chart.startswith("<svg") and chart.count("<polyline") == len(curves)
