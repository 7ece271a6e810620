"""Builders for runs: datasets with files, pipelines and their runs."""

import hashlib
import json
import tempfile
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aicenter.store import get_store
from datasets.models import Blob, Dataset, DatasetFile
from datasets.paths import parent
from datasets.snapshots import take_snapshot
from packages.examples import EXAMPLES, zip_folder
from packages.models import PackageVersion, Source
from packages.upload import hash_file, inspect, register_trained_version, stored, upload_package
from pipelines.definitions import create_pipeline
from pipelines.models import (
    ACTIVE,
    DEFAULT_PARAMETERS,
    Artifact,
    Metric,
    MetricPoint,
    Pipeline,
    Run,
    Status,
)
from pipelines.outputs import results_key
from pipelines.runner.logs import RunLog
from pipelines.runner.publish import results_document
from pipelines.runner.run import run_pipeline
from pipelines.start import start_run
from tests.factories import package_zip, uploaded

RUN_SECONDS = 60
ENDED_AGO = timedelta(seconds=15)


def dataset_with(project, name: str, files: dict[str, bytes]) -> Dataset:
    """A dataset holding `files`, their bytes in the store once per content."""
    dataset = Dataset.objects.create(project=project, name=name)
    for path, content in files.items():
        sha256 = hashlib.sha256(content).hexdigest()
        blob, created = Blob.objects.get_or_create(sha256=sha256, defaults={"size": len(content)})
        if created:
            get_store().put_bytes(blob.key, content)
        DatasetFile.objects.create(
            dataset=dataset, path=path, folder=parent(path), size=len(content), sha256=blob
        )
    return dataset


def flowers_dataset(project) -> Dataset:
    """The example flowers data (train/ and test/ CSVs), as a dataset of the project."""
    folder = EXAMPLES.parent / "datasets" / "flowers"
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*.csv"))
    }
    return dataset_with(project, "flowers", files)


def example_version(project, user, name: str = "flowers-stdlib"):
    return upload_package(
        project,
        name=name,
        description="",
        python_version="3.12",
        file=uploaded(zip_folder(EXAMPLES / name)),
        user=user,
    )


def package_version_with(project, user, train_py: str, name: str = "custom", **files):
    return upload_package(
        project,
        name=name,
        description="",
        python_version="3.12",
        file=uploaded(package_zip(**{"train.py": train_py, **files})),
        user=user,
    )


def free_name(project, name: str = "nightly") -> str:
    """`name`, or `name-2`, `name-3`...: pipeline names are unique in a project."""
    taken = set(project.pipelines.values_list("name", flat=True))
    return next(
        candidate
        for candidate in [name, *(f"{name}-{n}" for n in range(2, len(taken) + 2))]
        if candidate not in taken
    )


def training_pipeline(project, user, version, data, **fields):
    """A training pipeline started now; its run stays scheduled until a worker takes it."""
    definition = {
        "name": free_name(project),
        "type": "training",
        "package_version": version,
        "input_dataset": data,
        "parameters": dict(DEFAULT_PARAMETERS),
        **fields,
    }
    return create_pipeline(project, definition, user)


def snapshotting_pipeline(project, user, files: dict[str, bytes], **parameters):
    """Trains the example package on the train folder of new data and keeps a snapshot of it."""
    data = dataset_with(project, "flowers", files)
    parameters = {**DEFAULT_PARAMETERS, "save_training_data": "true", **parameters}
    version = example_version(project, user)
    return training_pipeline(
        project, user, version, data, input_path="train", parameters=parameters
    )


def run_of(pipeline, status: str = Status.SCHEDULED, **fields) -> Run:
    """A new run of the pipeline put straight into `status`, with the times a worker records."""
    run = start_run(pipeline)
    now = timezone.now()
    if status != Status.SCHEDULED:
        fields.setdefault("started_at", now - ENDED_AGO - timedelta(seconds=RUN_SECONDS))
    if status not in ACTIVE:
        fields.setdefault("ended_at", now - ENDED_AGO)
    Run.objects.filter(id=run.id).update(status=status, **fields)
    return Run.objects.get(id=run.id)


def run_here(project, user, train_py: str) -> Run:
    """A training run of a package with `train_py` on one small file, carried out by this
    process as a worker would (settings.WORKER_DIR is the caller's), then read again."""
    version = package_version_with(project, user, train_py)
    data = dataset_with(project, "numbers", {"a.csv": b"x\n1\n"})
    run = training_pipeline(project, user, version, data).runs.get()
    run_pipeline(run.id)
    run.refresh_from_db()
    return run


def store_artifacts(run: Run, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        artifact = Artifact(run=run, path=path, size=len(content))
        get_store().put_bytes(artifact.key, content)
        artifact.save()


def write_log(run: Run, lines: list[tuple[str, str]]) -> None:
    log = RunLog(run)
    for stream, text in lines:
        log.add(stream, text)
    log.flush()


def publish(run: Run, score: float | None = None, snapshot: bool = True) -> Run:
    """What a successful run publishes: a new version, the data snapshot and _results.json."""
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "trained.zip"
        archive.write_bytes(package_zip())
        checked = inspect(archive, *hash_file(archive))
        with stored(checked, run.project), transaction.atomic():
            version = register_trained_version(run.package_version, checked, score)
    kept = take_snapshot(run.input_dataset, run.input_path) if snapshot else None
    results = results_document(run, run.ended_at, version, kept, score)
    get_store().put_bytes(results_key(run), json.dumps(results).encode())
    Run.objects.filter(id=run.id).update(
        produced_version=version, snapshot=kept, score=score, results=results
    )
    return Run.objects.get(id=run.id)


def training_body(version, data, /, **changes) -> dict:
    """The API's body for a training pipeline of `version` on `data`, with `changes`."""
    body = {
        "name": "nightly",
        "type": "training",
        "package": version.package_id,
        "version": version.label,
        "input_dataset": data.id,
    }
    return {**body, **changes}


def post_pipeline(client, project, body: dict):
    url = f"/api/v1/projects/{project.id}/pipelines"
    return client.post(url, json.dumps(body), content_type="application/json")


def history(project, user, *, versions: int, pipelines: int, runs: int) -> list[Run]:
    """What a busy project gathers, made in bulk: a package with `versions` versions, and
    `pipelines` pipelines sharing `runs` successful runs, the first of which made them."""
    first = example_version(project, user)
    trained = PackageVersion.objects.bulk_create(
        trained_version(first, minor, score=minor / versions) for minor in range(1, versions)
    )
    data = dataset_with(project, "history", {"train/flowers.csv": b"species\nsetosa\n"})
    made = Pipeline.objects.bulk_create(
        Pipeline(
            project=project,
            name=f"pipeline-{number}",
            type="training",
            package_version=first,
            input_dataset=data,
            parameters=dict(DEFAULT_PARAMETERS),
        )
        for number in range(pipelines)
    )
    ended = timezone.now() - ENDED_AGO
    runs = Run.objects.bulk_create(
        (
            Run(
                project=project,
                pipeline=made[number % pipelines],
                pipeline_name=made[number % pipelines].name,
                type="training",
                package_version=first,
                input_dataset=data,
                parameters=dict(DEFAULT_PARAMETERS),
                time_limit=RUN_SECONDS * 10,
                status=Status.SUCCESSFUL,
                started_at=ended - timedelta(seconds=RUN_SECONDS),
                ended_at=ended,
                produced_version=trained[number] if number < len(trained) else None,
            )
            for number in range(runs)
        ),
        batch_size=1000,
    )
    for pipeline, run in {run.pipeline: run for run in runs}.items():  # the last of each
        pipeline.latest_run = run
    Pipeline.objects.bulk_update(made, ["latest_run"])
    return runs


def trained_version(parent: PackageVersion, minor: int, score: float) -> PackageVersion:
    """A version a run made from `parent`, sharing its zip."""
    copied = ["supported_types", "requirements", "files", "zip_key", "zip_root", "size", "sha256"]
    return PackageVersion(
        package_id=parent.package_id,
        major=parent.major,
        minor=minor,
        source=Source.RUN,
        parent=parent,
        score=score,
        **{name: getattr(parent, name) for name in copied},
    )


def page_urls(project, runs: list[Run]) -> dict[str, str]:
    """The pages that list a project's pipelines, runs and versions, for a run of `history`."""
    package = runs[0].package_version.package
    return {
        "pipelines": reverse("pipelines:list", args=[project.id]),
        "run": reverse("pipelines:run", args=[project.id, runs[0].id]),
        "package": reverse("packages:detail", args=[project.id, package.id]),
        "pipeline": reverse("pipelines:pipeline", args=[project.id, runs[0].pipeline_id]),
        "api-pipelines": f"/api/v1/projects/{project.id}/pipelines",
    }


def report(run: Run, name: str, values: list[float | None] | dict[int, float | None]) -> None:
    """Points of one metric (a list: steps from 0), and its summary, as the runner keeps them."""
    now = timezone.now()
    steps = values.items() if isinstance(values, dict) else enumerate(values)
    MetricPoint.objects.bulk_create(
        (
            MetricPoint(run=run, name=name, step=step, value=value, time=now)
            for step, value in steps
        ),
        batch_size=5000,
    )
    (summary,) = run.metric_points.filter(name=name).summaries()
    figures = {field: summary[field] for field in Metric.SUMMED}
    Metric.objects.update_or_create(run=run, name=name, defaults=figures)
