"""1. The overhead of one run, and 6. the throughput of many, against the user's code alone.

The overhead's last rows, what the run's sandbox adds, are in bench/sandboxing.py."""

import subprocess
import time
import zipfile
from pathlib import Path

from bench.measure import Row, Target, paired
from bench.service import Bench

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FLOWERS = EXAMPLES / "datasets" / "flowers"
# What a user runs without the service: the package's train() and save() in a fresh Python.
DIRECT = "import sys; from train import Main; m = Main(); m.train(sys.argv[1]); m.save()"
OVERHEAD_TARGET = Target("median", 1.0, "< 1 s")
THROUGHPUT_RUNS = 50
POLL = 0.005
POLL_PER_RUN = 0.0001


def overhead(bench: Bench) -> list[Row]:
    from bench.sandboxing import bubblewrap_alone, sandbox_rows

    project = bench.project("Runs")
    data = flowers(bench, project)
    version = example_package(bench, project, "flowers-stdlib")
    api = api_client(bench)
    with bench.workers("overhead", RUN_SANDBOX="on") as folder:
        run_through_api(api, project, version, data)  # builds the environment once
        service, direct = paired(
            bench.repeats(10),
            lambda: None,
            lambda: run_through_api(api, project, version, data),
            directly(bench, version, FLOWERS / "train"),
        )
        sandbox = sandbox_rows(
            bench, folder, lambda: started_through_api(api, project, version, data)
        )
    return [
        Row(
            "1 run overhead",
            "training run of flowers-stdlib, API call to successful",
            "s",
            service,
            "train()+save() alone",
            direct,
        ),
        Row(
            "1 run overhead",
            "overhead: run minus train()+save() alone",
            "s",
            [run - alone for run, alone in zip(service, direct, strict=True)],
            target=OVERHEAD_TARGET,
        ),
        *sandbox,
        bubblewrap_alone(bench),
    ]


def throughput(bench: Bench) -> list[Row]:
    from tests.factories import package_zip, uploaded

    project = bench.project("Throughput")
    data = flowers(bench, project)
    version = upload(bench, project, "trivial", uploaded(package_zip()))
    count = 5 if bench.quick else THROUGHPUT_RUNS
    run_alone = directly(bench, version, FLOWERS / "train")
    with bench.workers("throughput"):
        pipeline = first_run_done(bench, project, version, data)
        service, loop = paired(
            bench.repeats(3),
            lambda: None,
            lambda: run_many(pipeline, count),
            lambda: [run_alone() for _ in range(count)],
        )
    per_minute = [count * 60 / seconds for seconds in service]
    loop_per_minute = [count * 60 / seconds for seconds in loop]
    return [
        Row(
            "6 throughput",
            f"{count} trivial runs, one worker of two processes",
            "runs/min",
            per_minute,
            "the same code in a loop",
            loop_per_minute,
        )
    ]


def flowers(bench: Bench, project):
    from bench.data import dataset_of

    files = [(path.relative_to(FLOWERS).as_posix(), path) for path in FLOWERS.rglob("*.csv")]
    return dataset_of(project, "flowers", files)


def upload(bench: Bench, project, name: str, file):
    from packages.upload import upload_package

    return upload_package(
        project, name=name, description="", python_version="3.12", file=file, user=bench.owner
    )


def example_package(bench: Bench, project, name: str):
    from packages.examples import EXAMPLES as PACKAGES
    from packages.examples import zip_folder
    from tests.factories import uploaded

    return upload(bench, project, name, uploaded(zip_folder(PACKAGES / name)))


def api_client(bench: Bench):
    from tests.factories import api_client as client_of

    return client_of(bench.owner)


def run_through_api(api, project, version, data):
    """Create a training pipeline that runs now, through the API; the run once successful."""
    return finished([started_through_api(api, project, version, data)])[0]


def started_through_api(api, project, version, data) -> int:
    """Create a training pipeline that runs now, through the API; its run's id."""
    import json

    body = {
        "name": f"bench-{time.monotonic_ns()}",
        "type": "training",
        "package": version.package_id,
        "version": version.label,
        "input_dataset": data.id,
        "input_path": "train",
    }
    url = f"/api/v1/projects/{project.id}/pipelines"
    response = api.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["runs"][0]["id"]


def finished(run_ids: list[int], timeout: float | None = None) -> list:
    """The runs, once every one has ended; each must have succeeded."""
    from pipelines.models import ACTIVE, Run

    timeout = timeout or max(600, 2 * len(run_ids))
    # Each look costs in proportion to the runs: looking as often at a thousand took the
    # workers' share of the two cores, and made a large burst's runs look slower.
    poll = max(POLL, len(run_ids) * POLL_PER_RUN)
    deadline = time.monotonic() + timeout
    while Run.objects.filter(id__in=run_ids).filter(status__in=ACTIVE).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Runs {run_ids} did not end in {timeout} s.")
        time.sleep(poll)
    runs = list(Run.objects.filter(id__in=run_ids))
    failed = [run for run in runs if run.status != "successful"]
    if failed:
        raise RuntimeError(f"Run {failed[0].id} ended {failed[0].status}: {failed[0].error}")
    return runs


def first_run_done(bench: Bench, project, version, data):
    """A pipeline whose first run has ended: its environment is ready."""
    from pipelines.definitions import create_pipeline
    from pipelines.models import DEFAULT_PARAMETERS

    definition = {
        "name": "throughput",
        "type": "training",
        "package_version": version,
        "input_dataset": data,
        "input_path": "train",
        "parameters": dict(DEFAULT_PARAMETERS),
    }
    pipeline = create_pipeline(project, definition, bench.owner)
    finished(list(pipeline.runs.values_list("id", flat=True)))
    return pipeline


def run_many(pipeline, count: int) -> None:
    from django.db import transaction

    from pipelines.start import start_run

    with transaction.atomic():
        runs = [start_run(pipeline) for _ in range(count)]
    finished([run.id for run in runs])


def directly(bench: Bench, version, data: Path):
    """A call of the package's train() and save() in a fresh Python of its environment."""
    from aicenter.store import get_store
    from pipelines.runner.environments import ensure_environment

    python = ensure_environment(version.package.python_version, version.requirements)
    folder = bench.scratch(f"direct-{version.id}")
    archive = folder / "package.zip"
    get_store().get_file(version.zip_key, archive)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder / "package")
    env = {"PATH": "/usr/bin:/bin", "artifacts_directory": str(folder / "artifacts")}

    def run():
        command = [str(python), "-c", DIRECT, str(data)]
        subprocess.run(command, cwd=folder / "package", env=env, check=True, capture_output=True)

    return run
