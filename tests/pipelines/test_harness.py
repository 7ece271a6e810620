"""The harness, run as the runner runs it: a separate Python process in the package folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "pipelines" / "runner" / "harness.py"

RECORDING_TRAIN = """\
import json, os
from pathlib import Path

calls = Path(os.environ["CALLS"])

def note(*args):
    with calls.open("a") as out:
        out.write(json.dumps(args) + "\\n")

class Main:
    def __init__(self):
        note("init")

    def process_data(self, input_directory):
        note("process_data", input_directory)
        if os.environ.get("SPLIT") == "yes":
            Path(os.environ["training_data_directory"], "part.csv").write_text("x")

    def train(self, training_directory):
        note("train", training_directory, os.environ["training_data_directory"])

    def evaluate(self, evaluation_directory):
        note("evaluate", evaluation_directory)
        return 0.75

    def save(self):
        note("save")
"""


def run_harness(tmp_path: Path, kind: str, train_py: str = RECORDING_TRAIN, **env):
    package = tmp_path / "package"
    package.mkdir(exist_ok=True)
    (package / "train.py").write_text(train_py)
    folders = {name: tmp_path / name for name in ["data", "training", "evaluation", "test_data"]}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    spec = {
        "type": kind,
        "data": str(folders["data"]),
        "training": str(folders["training"]),
        "evaluation": str(folders["evaluation"]),
        "evaluation_fallback": str(folders["test_data"]),
        "result": str(tmp_path / "result.json"),
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    calls = tmp_path / "calls.jsonl"
    process = subprocess.run(
        [sys.executable, "-u", str(HARNESS), str(tmp_path / "spec.json")],
        cwd=package,
        env={**os.environ, "CALLS": str(calls), "training_data_directory": spec["training"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    recorded = (
        [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    )
    result = json.loads((tmp_path / "result.json").read_text())
    return process, recorded, result, folders


def test_training_calls_train_on_the_data_then_save(tmp_path):
    process, calls, result, folders = run_harness(tmp_path, "training")
    assert process.returncode == 0
    assert [call[0] for call in calls] == ["init", "train", "save"]
    assert calls[1][1] == str(folders["data"])
    assert result == {}


def test_evaluation_returns_the_score_as_a_number(tmp_path):
    process, calls, result, folders = run_harness(tmp_path, "evaluation")
    assert [call[0] for call in calls] == ["init", "evaluate"]
    assert result == {"score": 0.75}


def test_full_trains_on_what_process_data_wrote(tmp_path):
    process, calls, result, folders = run_harness(tmp_path, "full", SPLIT="yes")
    assert [call[0] for call in calls] == ["init", "process_data", "train", "evaluate", "save"]
    assert calls[2][1] == str(folders["training"])
    assert result == {"score": 0.75}


def test_full_falls_back_to_the_input_when_process_data_wrote_nothing(tmp_path):
    process, calls, result, folders = run_harness(tmp_path, "full", SPLIT="no")
    train = next(call for call in calls if call[0] == "train")
    assert train[1] == str(folders["data"])
    assert train[2] == str(folders["data"]), "the variable follows the fallback"
    assert "training on the input folder instead" in process.stdout
    assert "evaluating on the evaluation folder" in process.stdout


@pytest.mark.parametrize("kind", ["training", "full"])
def test_a_raising_method_reports_the_exception_and_traceback(tmp_path, kind):
    broken = RECORDING_TRAIN.replace(
        'note("train", training_directory, os.environ["training_data_directory"])',
        'raise ValueError("labels column missing")',
    )
    process, calls, result, folders = run_harness(tmp_path, kind, train_py=broken, SPLIT="yes")
    assert process.returncode == 1
    assert result["error"] == "ValueError: labels column missing"
    assert any("train.py" in line for line in result["traceback"])
    assert "ValueError: labels column missing" in process.stderr
    assert "save" not in [call[0] for call in calls]
