"""MLflow's tracking calls, answered inside the run: code written for MLflow reports here.

Standard library only: the harness loads this file in the package's environment and serves
it from a thread on 127.0.0.1, in the run's own network namespace, before the code starts.
It answers the REST calls that `mlflow.log_metric`, `log_metrics`, `log_param`,
`log_params`, `set_tag` and the start and end of a run make, and nothing else.

Every path starts with a random token of the run's: where a run shares the host's network
(RUN_NETWORK=host, or no sandbox), another process that finds the port gets 404 without it.

Metric points go to the run's metrics file as JSON lines, which the runner reads and stores
like the code's own lines; parameters and tags go as JSON lines to a second file, which the
runner reads while the run goes. Both are the run's own output, checked again by the runner.
"""

import json
import math
import os
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

API = "/api/2.0/mlflow/"
MAX_BODY = 1024 * 1024
MAX_KEY = 250  # MLflow's own limits
MAX_METRIC_KEY = 200  # the runner's, for a metric's name (pipelines.models.MAX_METRIC_NAME)
MAX_STEP = 2**62  # the runner's (pipelines.runner.metrics.MAX_STEP)
WHOLE = re.compile(r"-?[0-9]{1,19}")
IDLE_SECONDS = 10
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
# Tags the client sets on its own (user, source file, run name): not the code's to show.
CLIENT_TAGS = "mlflow."
GAPS = {"NaN": None, "Infinity": None, "-Infinity": None}


class Refused(Exception):
    """A request MLflow's server would refuse too; the message goes back to the client."""

    def __init__(self, message: str, code: str = "INVALID_PARAMETER_VALUE", status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def now_ms() -> int:
    return int(time.time() * 1000)


def text(body: dict, name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or (name == "key" and not value):
        raise Refused(f"'{name}' must be text.")
    if len(value) > limit:
        raise Refused(f"'{name}' is longer than {limit} characters.")
    return value


def whole(value, name: str, default: int) -> int:
    """A whole number, sent as a number or (int64 in MLflow's JSON) as its digits."""
    if value is None:
        return default
    if isinstance(value, str) and WHOLE.fullmatch(value):
        return int(value)
    if type(value) is not int:
        raise Refused(f"'{name}' must be a whole number.")
    return value


def metric_value(value) -> float | None:
    """A number, or None for a gap (NaN and infinity, which MLflow's JSON sends as text)."""
    if isinstance(value, str) and value in GAPS:
        return None
    if type(value) not in {int, float}:
        raise Refused("'value' must be a number.")
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class Tracker:
    """The runs, parameters and tags of this run's code, and the files they go to."""

    def __init__(self, metrics_file: str, logged_file: str) -> None:
        self.metrics_file, self.logged_file = metrics_file, logged_file
        self.lock = threading.Lock()
        self.experiments = {"0": "Default"}
        self.runs: dict[str, dict] = {}

    # Experiments: one namespace of names, kept only to answer the client consistently.

    def experiment(self, experiment_id: str) -> dict:
        if experiment_id not in self.experiments:
            raise Refused(f"No experiment {experiment_id!r}.", "RESOURCE_DOES_NOT_EXIST", 404)
        return {
            "experiment_id": experiment_id,
            "name": self.experiments[experiment_id],
            "artifact_location": "",
            "lifecycle_stage": "active",
        }

    def experiment_named(self, name: str) -> dict:
        for experiment_id, known in self.experiments.items():
            if known == name:
                return self.experiment(experiment_id)
        raise Refused(f"No experiment named {name!r}.", "RESOURCE_DOES_NOT_EXIST", 404)

    def create_experiment(self, body: dict) -> dict:
        name = text(body, "name", MAX_KEY)
        with self.lock:
            if name in self.experiments.values():
                raise Refused(f"Experiment {name!r} exists.", "RESOURCE_ALREADY_EXISTS")
            experiment_id = str(len(self.experiments))
            self.experiments[experiment_id] = name
        return {"experiment_id": experiment_id}

    # Runs

    def create_run(self, body: dict) -> dict:
        experiment_id = str(body.get("experiment_id") or "0")
        self.experiment(experiment_id)
        run_id = secrets.token_hex(16)
        name = body.get("run_name") if isinstance(body.get("run_name"), str) else ""
        info = {
            "run_id": run_id,
            "run_uuid": run_id,
            "run_name": name,
            "experiment_id": experiment_id,
            "status": "RUNNING",
            "start_time": whole(body.get("start_time"), "start_time", now_ms()),
            "artifact_uri": "",
            "lifecycle_stage": "active",
        }
        with self.lock:
            self.runs[run_id] = {"info": info, "metrics": {}, "params": {}, "tags": {}}
        self.log_batch({"run_id": run_id, "tags": body.get("tags") or []})
        return {"run": self.run_of(run_id)}

    def run(self, run_id) -> dict:
        if not isinstance(run_id, str) or run_id not in self.runs:
            raise Refused(f"No run {run_id!r}.", "RESOURCE_DOES_NOT_EXIST", 404)
        return self.runs[run_id]

    def run_of(self, run_id: str) -> dict:
        run = self.run(run_id)
        pairs = {
            kind: [{"key": k, "value": v} for k, v in run[kind].items()]
            for kind in ["params", "tags"]
        }
        return {"info": run["info"], "data": {"metrics": list(run["metrics"].values()), **pairs}}

    def update_run(self, body: dict) -> dict:
        info = self.run(body.get("run_id") or body.get("run_uuid"))["info"]
        if isinstance(body.get("status"), str):
            info["status"] = body["status"]
        if body.get("end_time") is not None:
            info["end_time"] = whole(body["end_time"], "end_time", now_ms())
        if isinstance(body.get("run_name"), str):
            info["run_name"] = body["run_name"]
        return {"run_info": info}

    # What the code logs

    def log_batch(self, body: dict) -> dict:
        run = self.run(body.get("run_id") or body.get("run_uuid"))
        lists = [body.get(name) or [] for name in ["metrics", "params", "tags"]]
        if not all(
            isinstance(items, list) and all(isinstance(i, dict) for i in items) for items in lists
        ):
            raise Refused("'metrics', 'params' and 'tags' must be lists of objects.")
        metrics = [self.point(item) for item in lists[0]]
        params = [(text(i, "key", MAX_KEY), text(i, "value", MAX_PARAM_VALUE)) for i in lists[1]]
        tags = [(text(i, "key", MAX_KEY), text(i, "value", MAX_TAG_VALUE)) for i in lists[2]]
        tags = [(key, value) for key, value in tags if not key.startswith(CLIENT_TAGS)]
        with self.lock:
            for point in metrics:
                run["metrics"][point["key"]] = point
            run["params"].update(params)
            run["tags"].update(tags)
            append(self.metrics_file, [metric_line(point) for point in metrics])
            logged = [("param", *pair) for pair in params] + [("tag", *pair) for pair in tags]
            append(self.logged_file, [logged_line(*entry) for entry in logged])
        return {}

    def point(self, item: dict) -> dict:
        step = whole(item.get("step"), "step", 0)
        if not 0 <= step <= MAX_STEP:
            raise Refused(f"'step' must be from 0 to {MAX_STEP}.")
        return {
            "key": text(item, "key", MAX_METRIC_KEY),
            "value": metric_value(item.get("value")),
            "timestamp": whole(item.get("timestamp"), "timestamp", now_ms()),
            "step": step,
        }

    def log_metric(self, body: dict) -> dict:
        return self.log_batch(
            {"run_id": body.get("run_id") or body.get("run_uuid"), "metrics": [body]}
        )

    def log_param(self, body: dict) -> dict:
        return self.log_batch(
            {"run_id": body.get("run_id") or body.get("run_uuid"), "params": [body]}
        )

    def set_tag(self, body: dict) -> dict:
        return self.log_batch(
            {"run_id": body.get("run_id") or body.get("run_uuid"), "tags": [body]}
        )


def metric_line(point: dict) -> str:
    """A point of step 0 goes without its step, so it takes its metric's next: MLflow's client
    sends 0 for a point logged without one, and points logged so in a loop make a curve."""
    line = {"name": point["key"], "value": point["value"]}
    return json.dumps(line | ({"step": point["step"]} if point["step"] else {}))


def logged_line(kind: str, key: str, value: str) -> str:
    return json.dumps({"kind": kind, "key": key, "value": value})


def append(path: str, lines: list[str]) -> None:
    """In one write: the code may append its own lines to the same file meanwhile."""
    if not lines:
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        os.write(descriptor, "".join(line + "\n" for line in lines).encode())
    finally:
        os.close(descriptor)


def routes(tracker: Tracker) -> dict:
    return {
        ("GET", "experiments/get"): lambda q: {
            "experiment": tracker.experiment(q("experiment_id"))
        },
        ("GET", "experiments/get-by-name"): lambda q: {
            "experiment": tracker.experiment_named(q("experiment_name"))
        },
        ("POST", "experiments/create"): tracker.create_experiment,
        ("GET", "runs/get"): lambda q: {"run": tracker.run_of(q("run_id") or q("run_uuid"))},
        ("POST", "runs/create"): tracker.create_run,
        ("POST", "runs/update"): tracker.update_run,
        ("POST", "runs/log-metric"): tracker.log_metric,
        ("POST", "runs/log-batch"): tracker.log_batch,
        ("POST", "runs/log-parameter"): tracker.log_param,
        ("POST", "runs/set-tag"): tracker.set_tag,
    }


class Handler(BaseHTTPRequestHandler):
    server: "TrackingServer"

    @property
    def timeout(self) -> float:
        """Of the connection: one request at a time, so a silent client may not hold the rest."""
        return IDLE_SECONDS

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self.answer("POST")

    def answer(self, method: str) -> None:
        url = urlsplit(self.path)
        prefix = f"/{self.server.token}{API}"
        if not url.path.startswith(prefix):
            self.reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "Not found."})
            return
        action = routes(self.server.tracker).get((method, url.path[len(prefix) :]))
        if action is None:
            message = (
                f"This run's tracking endpoint does not answer {method} {url.path[len(prefix) :]}."
            )
            self.reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": message})
            return
        try:
            self.reply(200, action(self.argument(method, url.query)))
        except Refused as refused:
            self.reply(refused.status, {"error_code": refused.code, "message": str(refused)})
        except OSError as error:  # the code replaced or filled a file the points go to
            # Not 500: MLflow's client would retry it for minutes, and no retry can mend it.
            message = f"What was logged could not be written for the run: {error}"
            self.reply(400, {"error_code": "INVALID_STATE", "message": message})

    def argument(self, method: str, query: str):
        if method == "GET":
            found = parse_qs(query)
            return lambda name: found.get(name, [None])[0]
        return self.body()

    def body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise Refused("Content-Length is not a number.") from None
        if not 0 <= length <= MAX_BODY:
            raise Refused(f"A request's body must be at most {MAX_BODY} bytes.")
        try:
            found = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, RecursionError):
            raise Refused("The body is not JSON.") from None
        if not isinstance(found, dict):
            raise Refused("The body is not a JSON object.")
        return found

    def reply(self, status: int, answer: dict) -> None:
        content = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format, *args) -> None:  # noqa: A002 - http.server's signature
        """Quiet: the run's log is the code's own output."""


class TrackingServer(HTTPServer):
    """One request at a time, on its own thread: MLflow's client waits for each answer, and
    its last call (ending the run) comes at the interpreter's exit, when no new thread
    can start."""

    def __init__(self, tracker: Tracker) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.tracker, self.token = tracker, secrets.token_hex(16)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{self.token}"


def serve(metrics_file: str, logged_file: str) -> TrackingServer:
    """A server answering from a daemon thread; its `uri` is MLFLOW_TRACKING_URI."""
    server = TrackingServer(Tracker(metrics_file, logged_file))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
