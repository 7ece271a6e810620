"""One run on a worker: claim -> stage -> environment -> execute -> publish -> clean up."""

import contextlib
import errno
import json
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.utils.translation import gettext_noop

from aicenter.store import STORE_ERRORS
from aicenter.wording import Said, rewritten, said_of, said_problems, say
from pipelines.forms import check_artifacts_directory
from pipelines.models import KILLED_ON_REQUEST, Run, Taken
from pipelines.runner import egress, gpus, host, limits, sandbox
from pipelines.runner.environments import ensure_environment, leases
from pipelines.runner.execute import Followed, Outcome, execute, kill_requested
from pipelines.runner.heartbeat import Heartbeat
from pipelines.runner.host import host_name
from pipelines.runner.logged import LoggedFile
from pipelines.runner.logs import RunLog
from pipelines.runner.metrics import RunMetrics
from pipelines.runner.publish import prepare, publish, upload_artifacts
from pipelines.runner.stage import Staged, stage
from pipelines.runner.workspace import RunUser, Workspace, run_user

logger = logging.getLogger(__name__)
HARNESS = Path(__file__).with_name("harness.py")
TRACKING = Path(__file__).with_name("tracking.py")
# What the sandbox starts with: the service's own values, none of them the user's.
SANDBOX_VARIABLES = ["PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV"]

# What the service says in a run's log and of its end, worded for each reader.
STARTED_ON = gettext_noop("Run %(run)s started on %(worker)s.")
DISK_FULL = gettext_noop("%(doing)s failed: the worker's disk is full (%(error)s).")
STORE_FAILED = gettext_noop("%(doing)s failed: the store could not be used (%(error)s).")
HOST_NETWORK = gettext_noop(
    "This run has the host's network (RUN_NETWORK=host), as its pipeline asks."
)
GATED_NETWORK = gettext_noop(
    "This run reaches the Internet over HTTPS through the worker's network gate "
    "(HTTPS_PROXY=%(proxy)s), never the service's hosts or private networks."
)
NO_NETWORK = gettext_noop(
    "This run asked for the network, which this worker does not give: it has none."
)
GATE_REFUSED = gettext_noop(
    "The network gate refused %(count)s connection(s); the first: %(first)s"
)
WAITING_FOR_GPUS = gettext_noop("Waiting for %(gpus)s of this worker to be free.")
HOLDING_GPUS = gettext_noop("Holding GPU %(devices)s (CUDA_VISIBLE_DEVICES).")
CALLING = gettext_noop("Calling the %(type)s steps of train.Main.")
TIMED_OUT = gettext_noop("Timed out: the run took longer than %(seconds)s seconds.")
NO_RESULT = gettext_noop("The run's process ended with exit code %(code)s and no result.")
CANNOT_START = gettext_noop("The run cannot start: %(problem)s")
NOT_A_SCORE = gettext_noop("evaluate() returned %(score)s: a score must be a finite number.")


def worker_name() -> str:
    return f"{host_name()}:{os.getpid()}"


def claim(run_id: int) -> Run | None:
    """The scheduled run, now running here; None when another delivery took it, it ended,
    or this worker has no room for it now (then it is queued again)."""
    relations = ["project", "package_version__package", "input_dataset", "evaluation_dataset"]
    run = Run.objects.select_related(*relations).filter(id=run_id).first()
    if run is None:
        return None
    taken = host.this_worker().take(run, worker_name())
    if taken == Taken.NO_ROOM:
        host.hand_back(run)
    return run if taken == Taken.YES else None


def run_pipeline(run_id: int) -> None:
    run = claim(run_id)
    if run is None:
        logger.info("Run %s was not scheduled any more; nothing to do.", run_id)
        return
    workspace = Workspace.create(run.id)
    log = RunLog(run)
    staged = None
    try:
        with Heartbeat(run.id), leases():
            log.system(say(STARTED_ON, run=run.id, worker=run.worker))
            if not sandbox.enabled():
                log.system(sandbox.NOT_ISOLATED)
            elif run.network:
                log.system(network_line())
            log.system(limits.summary(run.resources))
            with step(say(gettext_noop("Staging the package and data"))):
                staged = stage(run, workspace, log)
                log.flush()
            carry_out(run, workspace, log, staged)
    except gpus.KilledWhileWaiting as error:
        end(run.kill, reason(error), log)
    except Exception as error:
        logger.exception("Run %s failed", run.id)
        end(run.fail, without_worker_paths(reason(error), workspace), log)
    finally:
        clean_up(workspace, staged, log)
        release_quietly()


def release_quietly() -> None:
    """The run's reservation goes with it; a database that fails here is counted again at
    the next claim or report."""
    try:
        host.release()
    except DatabaseError:
        logger.exception("Releasing a run's reservation failed")


def clean_up(workspace: Workspace, staged: Staged | None, log: RunLog) -> None:
    """The workspace and unkept snapshots go even when the database fails the last flush."""
    workspace.remove()
    try:
        if staged is not None:
            staged.discard_unused()
        log.flush()
    except DatabaseError:
        logger.exception("Run %s: cleaning up after the run failed", log.run_id)


def carry_out(run: Run, workspace: Workspace, log: RunLog, staged: Staged) -> None:
    with step(say(gettext_noop("Preparing the environment"))):
        python = ensure_environment(
            run.package_version.package.python_version,
            run.package_version.requirements,
            on_build=lambda: mark_packaging(run, log),
        )
        run.resume()
    with step(say(gettext_noop("Running the package"))), held_gpus(run, log) as devices:
        outcome = execute_harness(run, workspace, python, log, devices)
    with step(say(gettext_noop("Uploading the artifacts"))):
        upload_artifacts(run, workspace.inside(run.parameters["artifacts_directory"]), log)
    with step(say(gettext_noop("Publishing the outputs"))):
        finish(run, workspace, outcome, staged, log)


class StepFailed(Exception):
    """A step of a run failed for a reason outside the user's code, said plainly (a Said)."""


@contextlib.contextmanager
def step(doing: Said):
    """Say which step failed when the disk fills up or the store fails."""
    reconnect_if_dropped()
    try:
        yield
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        raise StepFailed(say(DISK_FULL, doing=doing, error=str(error))) from error
    except STORE_ERRORS as error:
        raise StepFailed(say(STORE_FAILED, doing=doing, error=str(error))) from error


def network_line() -> Said:
    if settings.RUN_NETWORK == "host":
        return say(HOST_NETWORK)
    if settings.RUN_NETWORK == "gate":
        return say(GATED_NETWORK, proxy=egress.PROXY)
    return say(NO_NETWORK)


@contextlib.contextmanager
def gate_for(run: Run, log: RunLog) -> Iterator[egress.Gate | None]:
    """The network gate of a sandboxed run that asks for the network, while it runs."""
    if not (run.network and sandbox.enabled() and settings.RUN_NETWORK == "gate"):
        yield None
        return
    with egress.gate() as gate:
        yield gate
    if gate.server.refusals:
        count, first = gate.server.refused_count, gate.server.refusals[0]
        log.system(say(GATE_REFUSED, count=count, first=first))


def reason(error: Exception) -> str | Said:
    """What the service said of a failure it knows; any other exception as it reads."""
    if said := said_of(error):
        return said
    if isinstance(error, StepFailed | sandbox.SandboxUnavailable | gpus.GpusUnavailable):
        return str(error)
    return f"{type(error).__name__}: {error}"


def without_worker_paths(message: str | Said, workspace: Workspace) -> str | Said:
    """The message with paths given relative to the workspace: where a worker keeps its
    folders is the worker's business, not the run's readers'."""

    def relative(text: str) -> str:
        text = text.replace(f"{workspace.root}/", "").replace(str(workspace.root), ".")
        return text.replace(str(settings.WORKER_DIR), "<worker>")

    return rewritten(message, relative)


def reconnect_if_dropped() -> None:
    """A step can outlast the database connection (a restart, a proxy's idle timeout)."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()


def mark_packaging(run: Run, log: RunLog) -> None:
    log.system(say(gettext_noop("Building the package's environment; later runs reuse it.")))
    log.flush()
    run.mark_packaging()


@contextlib.contextmanager
def held_gpus(run: Run, log: RunLog):
    """The GPUs of this host the run holds while it goes, once they are free."""

    def waiting() -> None:
        log.system(say(WAITING_FOR_GPUS, gpus=gpus.gpus_text(run.gpus)))
        log.flush()

    with gpus.held(run.id, run.gpus, lambda: kill_requested(run.id), waiting) as devices:
        if devices:
            log.system(say(HOLDING_GPUS, devices=", ".join(devices)))
        yield devices


def execute_harness(
    run: Run, workspace: Workspace, python: Path, log: RunLog, devices: list[str]
) -> Outcome:
    with gate_for(run, log) as gate:
        return execute_harness_with(run, workspace, python, log, devices, gate)


def execute_harness_with(
    run: Run,
    workspace: Workspace,
    python: Path,
    log: RunLog,
    devices: list[str],
    gate: egress.Gate | None,
) -> Outcome:
    spec = harness_spec(run, workspace, gate)
    env = user_environment(run, workspace, python, spec, gate)
    if devices:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
    (workspace.root / "harness.py").write_text(HARNESS.read_text())
    workspace.tracking.write_text(TRACKING.read_text())
    command = [str(python), "-u", str(workspace.root / "harness.py"), str(workspace.spec)]
    log.system(say(CALLING, type=run.type))
    log.flush()
    user, artifacts = run_user(), Path(env["artifacts_directory"])
    workspace.hand_over(user, artifacts)
    if sandbox.enabled():
        sandbox.check(user)
        # The run's own variables (its parameters: LD_PRELOAD, say) must never reach bwrap
        # or setpriv, which start as root: the harness sets them, once it is the user.
        spec["env"], env = env, {name: env[name] for name in SANDBOX_VARIABLES}
        command = confined(run, command, workspace, python, artifacts, user, env, devices, gate)
        env, user = sandbox.LAUNCHER_ENVIRONMENT, None  # the sandbox switches to the user
    workspace.spec.write_text(json.dumps(spec))
    readers = followed(run, workspace, log)
    with run_limits(run, workspace, artifacts).held(run.id) as held:
        outcome = execute(
            run, command, workspace.package, env, run.time_limit, log, user, held, readers
        )
    outcome.result = workspace.read_result()
    return outcome


def followed(run: Run, workspace: Workspace, log: RunLog) -> list[Followed]:
    """What the run writes for the service while it goes: its metrics, and the parameters and
    tags MLflow's calls logged (kept whether the run succeeds or not). Read by paths free of
    links: none on them is followed."""
    out = workspace.root.resolve() / "out"
    return [
        RunMetrics(run.id, out / workspace.metrics.name, log),
        LoggedFile(run, out / workspace.logged.name, log),
    ]


def run_limits(run: Run, workspace: Workspace, artifacts: Path) -> limits.RunLimits:
    """What the run may use; its disk is what it writes, not the data staged for it."""
    disk = limits.DiskWatch(
        folders=[*workspace.writable, artifacts],
        staged=[workspace.data, workspace.test_data],
        limit=run.resources.disk_bytes,
    )
    return limits.RunLimits(run.resources, disk)


def confined(
    run: Run,
    command: list[str],
    workspace: Workspace,
    python: Path,
    artifacts: Path,
    user: RunUser | None,
    env: dict[str, str],
    devices: list[str],
    gate: egress.Gate | None,
) -> list[str]:
    """The harness in the run's sandbox: what it writes, and what it only reads."""
    return sandbox.confine(
        command,
        env=env,
        gpus=devices,
        cwd=workspace.package,
        writable=[*workspace.writable, artifacts],
        read_only=[
            *workspace.readable,
            python.parent.parent,  # the environment
            sandbox.python_home(python),
            *([gate.folder] if gate else []),
        ],
        user=user,
        network=run.network and settings.RUN_NETWORK == "host",
    )


def harness_spec(run: Run, workspace: Workspace, gate: egress.Gate | None) -> dict:
    evaluation_staged = run.evaluation_dataset_id is not None
    if run.type == "full":
        training, evaluation = workspace.training_split, workspace.evaluation_split
    else:
        training = workspace.data
        evaluation = workspace.test_data
    return {
        "type": run.type,
        "data": str(workspace.data if run.input_dataset_id else workspace.test_data),
        "training": str(training),
        "evaluation": str(evaluation),
        "evaluation_fallback": str(workspace.test_data) if evaluation_staged else None,
        "result": str(workspace.result),
        "tracking": {
            "code": str(workspace.tracking),
            "metrics": str(workspace.metrics),
            "logged": str(workspace.logged),
        },
        # In the sandbox, its PID namespace ends with the worker; outside, the harness
        # watches for the worker's death itself.
        **({} if sandbox.enabled() else {"worker_pid": os.getpid()}),
        **({"gate": str(gate.socket)} if gate else {}),
    }


def artifacts_folder(run: Run, workspace: Workspace) -> Path:
    """Checked again here: a pipeline saved before the check may name a reserved folder."""
    try:
        check_artifacts_directory(run.parameters["artifacts_directory"])
    except ValidationError as error:
        problem = said_problems(error)[0]
        raise StepFailed(say(CANNOT_START, problem=problem)) from None
    return workspace.inside(run.parameters["artifacts_directory"])


def user_environment(
    run: Run, workspace: Workspace, python: Path, spec: dict, gate: egress.Gate | None
) -> dict[str, str]:
    """Parameters and the run's folders; none of the service's own settings or secrets."""
    artifacts = artifacts_folder(run, workspace)
    artifacts.mkdir(parents=True, exist_ok=True)
    env = {
        **limits.thread_variables(run.cpus),  # a parameter of the same name wins
        **run.parameters,
        "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workspace.home),
        "TMPDIR": str(workspace.tmp),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "VIRTUAL_ENV": str(python.parent.parent),
        "artifacts_directory": str(artifacts),
        "data_directory": spec["data"],
        "training_data_directory": spec["training"],
        "evaluation_data_directory": spec["evaluation"],
        "test_data_directory": spec["evaluation"],
        "metrics_file": str(workspace.metrics),
    }
    if gate:
        env.update(gate.environment())
    return env


def finish(run: Run, workspace: Workspace, outcome: Outcome, staged: Staged, log: RunLog) -> None:
    if outcome.stopped == "killed":
        end(run.kill, say(KILLED_ON_REQUEST), log)
    elif outcome.stopped == "timeout":
        end(run.fail, say(TIMED_OUT, seconds=run.time_limit), log)
    elif outcome.stopped == "limit":
        end(run.fail, outcome.exceeded, log)
    elif outcome.returncode != 0 or "error" in outcome.result:
        end(run.fail, failure_message(outcome), log)
    elif refused := refused_score(outcome.result.get("score")):
        end(run.fail, refused, log)
    else:
        publication = prepare(run, workspace, outcome.result.get("score"), staged, log)
        log.flush()
        if not publish(run, publication):
            # Reaped meanwhile (nothing to do), or a kill came first: the kill wins.
            end(run.kill, say(KILLED_ON_REQUEST), log)


def failure_message(outcome: Outcome) -> str | Said:
    """The error of the user's code as it wrote it; else what the service saw."""
    if "error" in outcome.result:
        return "\n".join([outcome.result["error"], *outcome.result.get("traceback", [])])
    return say(NO_RESULT, code=outcome.returncode)


def refused_score(score) -> Said | None:
    """The harness refuses a score that is not a finite number, but the result file is the
    user's code's to write too: no NaN or infinity reaches a version or _results.json."""
    if score is None or (type(score) in {int, float} and math.isfinite(score)):
        return None
    return say(NOT_A_SCORE, score=repr(score))


def end(transition, error: str | Said, log: RunLog) -> bool:
    """Every line so far, then the transition, which writes the closing line if it moves."""
    log.flush()
    return transition(error)
