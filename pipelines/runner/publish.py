"""Publishing a run's outputs: artifacts always, a new version and _results.json on success.

A version exists only once its zip is stored: the zip goes up first, and the
version, the run's outcome and _results.json are registered in one transaction.
"""

import contextlib
import json
import zipfile
from pathlib import Path

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aicenter.store import check_key, get_store
from packages.contract import PipelineType
from packages.upload import hash_file, inspect, register_trained_version, stored
from pipelines.models import Artifact, Run, Status
from pipelines.runner.logs import RunLog
from pipelines.runner.workspace import Workspace, regular_files

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


def publish_success(run: Run, workspace: Workspace, score: float | None, snapshot) -> None:
    ended = timezone.now()
    makes_version = run.type in {PipelineType.TRAINING, PipelineType.FULL}
    checked = None
    if makes_version:
        archive = zip_package(workspace)
        checked = inspect(archive, *hash_file(archive))
    with stored_if(checked, run.project), transaction.atomic():
        version = register_trained_version(run.package_version, checked, score) if checked else None
        if run.type == PipelineType.EVALUATION:
            run.package_version.score = score
            run.package_version.save(update_fields=["score"])
        results = results_document(run, ended, version, snapshot, score)
        get_store().put_bytes(f"runs/{run.id}/_results.json", json.dumps(results).encode())
        Run.objects.filter(id=run.id).update(
            status=Status.SUCCESSFUL,
            ended_at=ended,
            score=score,
            produced_version=version,
            snapshot=snapshot,
            results=results,
            heartbeat_at=ended,
        )
        run.record_status(Status.SUCCESSFUL, f"made version {version.label}" if version else "")


def stored_if(checked, project):
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
