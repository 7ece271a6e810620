"""The harness, run as the runner runs it: a separate Python process in the package folder."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import live_members

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


def write_spec(tmp_path: Path, kind: str, train_py: str, **more) -> tuple[Path, dict, dict]:
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
        **more,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    return package, spec, folders


def run_harness(
    tmp_path: Path,
    kind: str,
    train_py: str = RECORDING_TRAIN,
    python: str = sys.executable,
    tracking: dict | None = None,
    **env,
):
    more = {"tracking": tracking} if tracking else {}
    package, spec, folders = write_spec(tmp_path, kind, train_py, **more)
    calls = tmp_path / "calls.jsonl"
    process = subprocess.run(
        [python, "-u", str(HARNESS), str(tmp_path / "spec.json")],
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


SPAWNING_TRAIN = """\
import os, subprocess, time
from pathlib import Path

class Main:
    def train(self, training_directory):
        child = subprocess.Popen(["sleep", "600"])
        Path(os.environ["PIDS"]).write_text(f"{os.getpgid(0)} {child.pid}")
        time.sleep(600)

    def save(self):
        pass
"""

# Starts the harness as the runner does, in its own session, then waits to be killed.
STAND_IN_WORKER = """\
import json, os, subprocess, sys, time
spec_path, harness = sys.argv[1], sys.argv[2]
spec = json.load(open(spec_path))
spec["worker_pid"] = os.getpid()
json.dump(spec, open(spec_path, "w"))
subprocess.Popen([sys.executable, harness, spec_path], start_new_session=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_a_worker_killed_outright_takes_the_runs_whole_process_group_with_it(tmp_path):
    package, _, _ = write_spec(tmp_path, "training", SPAWNING_TRAIN)
    pids = tmp_path / "pids"
    worker = subprocess.Popen(
        [sys.executable, "-c", STAND_IN_WORKER, str(tmp_path / "spec.json"), str(HARNESS)],
        cwd=package,
        env={**os.environ, "PIDS": str(pids)},
    )
    deadline = time.monotonic() + 30
    while not pids.exists() or not pids.read_text():
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.05)
    group, child = map(int, pids.read_text().split())
    assert {group, child} <= set(live_members(group))

    worker.kill()
    worker.wait()
    while live_members(group):
        assert time.monotonic() < deadline + 10, f"still running: {live_members(group)}"
        time.sleep(0.05)


@pytest.mark.parametrize("kind", ["evaluation", "full"])
@pytest.mark.parametrize("score", ["nan", "inf", "-inf"])
def test_a_score_that_is_not_a_finite_number_fails_the_run_in_one_sentence(tmp_path, kind, score):
    train_py = RECORDING_TRAIN.replace("return 0.75", f"return float({score!r})")
    process, calls, result, folders = run_harness(tmp_path, kind, train_py=train_py, SPLIT="yes")
    sentence = f"evaluate() returned {score}: a score must be a finite number."
    assert process.returncode == 1
    assert result == {"error": sentence}
    assert sentence in process.stderr
    assert "save" not in [call[0] for call in calls]
