"""Runs inside the package's environment: imports train.Main and calls the pipeline's methods.

Standard library only. Called as `python -u harness.py <spec.json>` with the package
folder as working directory; writes the outcome (score or error) to the spec's
result file.
"""

import ctypes
import importlib.util
import json
import math
import os
import signal
import sys
import traceback
from pathlib import Path

TRACEBACK_LINES = 12
PR_SET_PDEATHSIG = 1


def has_files(folder: str) -> bool:
    return any(path.is_file() for path in Path(folder).rglob("*"))


def point_to(variables: list[str], folder: str) -> None:
    for variable in variables:
        os.environ[variable] = folder


def run_training(model, spec: dict) -> dict:
    model.train(spec["data"])
    model.save()
    return {}


class NotAScore(Exception):
    """evaluate() returned what cannot be a score: said in one sentence, with no traceback."""


def score_of(value) -> float:
    score = float(value)
    if not math.isfinite(score):
        raise NotAScore(f"evaluate() returned {score!r}: a score must be a finite number.")
    return score


def run_evaluation(model, spec: dict) -> dict:
    return {"score": score_of(model.evaluate(spec["evaluation"]))}


def run_full(model, spec: dict) -> dict:
    model.process_data(spec["data"])
    training = spec["training"]
    if not has_files(training):
        print(f"process_data wrote nothing to {training}; training on the input folder instead.")
        training = spec["data"]
        point_to(["training_data_directory"], training)
    model.train(training)
    evaluation = spec["evaluation"]
    if not has_files(evaluation) and spec.get("evaluation_fallback"):
        print(f"process_data wrote nothing to {evaluation}; evaluating on the evaluation folder.")
        evaluation = spec["evaluation_fallback"]
        point_to(["evaluation_data_directory", "test_data_directory"], evaluation)
    score = score_of(model.evaluate(evaluation))
    model.save()
    return {"score": score}


STEPS = {"training": run_training, "evaluation": run_evaluation, "full": run_full}


def die_with_worker(worker_pid: int) -> None:
    """When the worker dies (even by SIGKILL), the whole run goes with it, children included."""
    if not sys.platform.startswith("linux"):
        return
    signal.signal(signal.SIGHUP, lambda *_: os.killpg(0, signal.SIGKILL))
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGHUP)
    if os.getppid() != worker_pid:  # it died before the line above
        os.killpg(0, signal.SIGKILL)


def load(name: str, path: Path):
    """A module of the service's, loaded from its file without touching the code's sys.path."""
    found = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def open_gate(gate: str) -> None:
    """The run's way out, when it asked for the network: an HTTPS proxy on its loopback
    (bridge.py, beside the gate's socket)."""
    load("aicenter_bridge", Path(gate).parent / "bridge.py").serve(gate)


def answer_mlflow(tracking: dict) -> None:
    """MLflow's calls report to this run, through an endpoint on its loopback: where the
    environment has mlflow and the pipeline names no tracking server of its own."""
    if "MLFLOW_TRACKING_URI" in os.environ or importlib.util.find_spec("mlflow") is None:
        return
    try:
        endpoint = load("aicenter_tracking", Path(tracking["code"]))
        server = endpoint.serve(tracking["metrics"], tracking["logged"])
    except OSError as error:
        print(f"MLflow's calls cannot report to this run: {error}", file=sys.stderr)
        return
    os.environ["MLFLOW_TRACKING_URI"] = server.uri
    # The client would print a link to a web interface that this endpoint does not have.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    os.environ.update(spec.get("env", {}))  # in the sandbox, the run's variables come here
    if "worker_pid" in spec:
        die_with_worker(spec["worker_pid"])
    if "gate" in spec:
        open_gate(spec["gate"])
    if "tracking" in spec:
        answer_mlflow(spec["tracking"])
    sys.path.insert(0, os.getcwd())
    try:
        from train import Main

        outcome = STEPS[spec["type"]](Main(), spec)
        code = 0
    except NotAScore as error:
        print(error, file=sys.stderr)
        outcome, code = {"error": str(error)}, 1
    except BaseException as error:  # the user's code may raise anything, SystemExit included
        traceback.print_exc()
        lines = traceback.format_exception(error)
        tail = "".join(lines).rstrip().splitlines()[-TRACEBACK_LINES:]
        outcome = {"error": f"{type(error).__name__}: {error}", "traceback": tail}
        code = 1
    Path(spec["result"]).write_text(json.dumps(outcome))
    return code


if __name__ == "__main__":
    sys.exit(main())
