"""Publishing a run's outputs: artifacts always, a new version and _results.json on success.

A version exists only once its zip is stored: the zip goes up first, then the version
and the run's success are registered in one short transaction, which a run that was
reaped or killed meanwhile loses.
"""

import contextlib
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aicenter.store import STORE_ERRORS, check_key, get_store
from datasets.models import Snapshot
from packages.contract import PipelineType
from packages.upload import CheckedZip, hash_file, inspect, register_trained_version, stored
from pipelines.models import Artifact, Run
from pipelines.outputs import results_file, results_key
from pipelines.runner.logs import RunLog
from pipelines.runner.stage import Staged
from pipelines.runner.workspace import Workspace, regular_files

logger = logging.getLogger(__name__)

SKIPPED_IN_PACKAGE = {"__pycache__", ".ipynb_checkpoints"}


def upload_artifacts(run: Run, artifacts: Path, log: RunLog) -> None:
    """Every regular file the run wrote to its artifacts folder, uploaded concurrently."""
    files = []
    for path, local in regular_files(artifacts):
        try:
            files.append((path, local, check_key(f"runs/{run.id}/artifacts/{path}")))
        except ValueError:
            log.system(f"Artifact {path!r} skipped: its name cannot be stored.")
    get_store().put_many([(local, key) for _, local, key in files])
    Artifact.objects.bulk_create(
        [Artifact(run=run, path=path, size=local.stat().st_size) for path, local, _ in files]
    )
    if files:
        log.system(f"Uploaded {len(files)} artifact files.")


def zip_package(workspace: Workspace) -> Path:
    """The package folder as save() left it, without caches."""
    target = workspace.root / "new-version.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, local in regular_files(workspace.package):
            parts = set(Path(path).parts)
            if parts & SKIPPED_IN_PACKAGE or path.endswith(".pyc"):
                continue
            archive.write(local, path)
    return target


@dataclass(frozen=True)
class Publication:
    """What a successful run publishes, made ready before anything is registered."""

    score: float | None
    snapshot: Snapshot | None
    trained: CheckedZip | None  # the package folder as save() left it, checked as an upload


class PublicationLost(Exception):
    """The run stopped running (reaped, or a kill was asked for) before it could succeed."""


def prepare(run: Run, workspace: Workspace, score: float | None, staged: Staged) -> Publication:
    trained = None
    if run.type in {PipelineType.TRAINING, PipelineType.FULL}:
        archive = zip_package(workspace)
        trained = inspect(archive, *hash_file(archive))
    return Publication(score, staged.kept_by(run), trained)


def publish(run: Run, publication: Publication) -> bool:
    """Register the new version and the run's success; False when the run no longer runs.

    The zip is stored before the transaction and removed again if registering fails or
    loses, so no version exists without its zip and no zip stays without its version.
    Store calls stay outside the transaction: a slow upload must not hold the database's
    write lock (SQLite) or the package row's lock (PostgreSQL).
    """
    try:
        with stored_if(publication.trained, run.project):
            register(run, publication)
    except PublicationLost:
        return False
    store_results_file(run)
    return True


def register(run: Run, publication: Publication) -> None:
    ended, score, trained = timezone.now(), publication.score, publication.trained
    with transaction.atomic():
        version = register_trained_version(run.package_version, trained, score) if trained else None
        if run.type == PipelineType.EVALUATION:
            run.package_version.score = score
            run.package_version.save(update_fields=["score"])
        results = results_document(run, ended, version, publication.snapshot, score)
        succeeded = run.succeed(
            "Run successful.",
            event=f"made version {version.label}" if version else "",
            ended_at=ended,
            score=score,
            produced_version=version,
            snapshot=publication.snapshot,
            results=results,
        )
        if not succeeded:
            raise PublicationLost  # rolls the version and the score back


def store_results_file(run: Run) -> None:
    """_results.json beside the artifacts, for whoever reads the store itself; the pages
    and the API serve the copy on the run, so a failed upload here loses nothing."""
    try:
        get_store().put_bytes(results_key(run), results_file(run))
    except (*STORE_ERRORS, OSError):
        logger.exception("Run %s: _results.json could not be stored", run.id)


def stored_if(checked: CheckedZip | None, project):
    return stored(checked, project) if checked else contextlib.nullcontext()


def results_document(run: Run, ended, version, snapshot, score: float | None) -> dict:
    """_results.json, in the shape of ARCHITECTURE.md."""
    package = run.package_version.package
    start_at, end_at = int(run.started_at.timestamp()), int(ended.timestamp())
    summary = {
        "execution_time": end_at - start_at,
        "start_at": start_at,
        "end_at": end_at,
        "outputs": {
            "train_data": api_path(run, "snapshot") if snapshot else None,
            "artifacts_data": api_path(run, "artifacts"),
            "package": package.name,
            "version": version.label if version else None,
        },
    }
    if run.type != PipelineType.TRAINING:
        summary["score"] = score
    dataset = run.input_dataset or run.evaluation_dataset
    folder = run.input_path if run.input_dataset else run.evaluation_path
    return {
        "parameters": {
            "pipeline": run.pipeline_name,
            "inputs": {
                "package": package.name,
                "version": run.package_version.label,
                "train_data": f"{dataset.name}/{folder}".rstrip("/") if dataset else None,
                "gpu": str(run.gpu),
            },
            "env": dict(run.parameters),
        },
        "run_summary": summary,
    }


def api_path(run: Run, what: str) -> str:
    return reverse("api:run_" + what, kwargs={"project_id": run.project_id, "run_id": run.id})
