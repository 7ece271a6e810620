"""Publishing a run's outputs: artifacts always, a new version and _results.json on success.

A version exists only once its zip is stored: the zip goes up first, then the version
and the run's success are registered in one short transaction, which a run that was
reaped or killed meanwhile loses.
"""

import contextlib
import hashlib
import logging
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from aicenter.store import STORE_ERRORS, OpenFile, check_key, get_store
from aicenter.store.base import CHUNK
from aicenter.wording import Said, say
from datasets.models import Snapshot
from packages.contract import PipelineType
from packages.upload import CheckedZip, hash_file, inspect, register_trained_version, stored
from pipelines.models import Artifact, Run
from pipelines.outputs import results_file, results_key
from pipelines.runner.logs import RunLog
from pipelines.runner.nofollow import Folder, Refused
from pipelines.runner.stage import Staged
from pipelines.runner.workspace import Workspace

logger = logging.getLogger(__name__)

SKIPPED_IN_PACKAGE = {"__pycache__", ".ipynb_checkpoints"}
# Artifacts held open at once while they upload: far below the usual 1,024 descriptors.
OPEN_AT_ONCE = 128
ARTIFACT_SKIPPED = gettext_noop("Artifact %(path)s skipped: %(why)s.")
MADE_VERSION = gettext_noop("made version %(version)s")
PACKAGE_FILE_SKIPPED = gettext_noop("Package file %(path)s skipped: %(why)s.")


def upload_artifacts(run: Run, artifacts: Path, log: RunLog) -> None:
    """Every regular file the run wrote to its artifacts folder (a resolved path), uploaded
    concurrently; links and special files are skipped with a line in the run's log."""
    try:
        folder = Folder.open(artifacts)
    except Refused as refusal:
        log.system(say(gettext_noop("Artifacts folder skipped: %(why)s."), why=refusal.why))
        return
    with folder:
        upload_listed(run, folder, folder.files(skipping(ARTIFACT_SKIPPED, log)), log)


def upload_listed(run: Run, folder: Folder, paths: list[str], log: RunLog) -> None:
    """The files folder.files() listed, each opened again without following links."""
    artifacts = []
    for start in range(0, len(paths), OPEN_AT_ONCE):
        artifacts += upload_some(run, folder, paths[start : start + OPEN_AT_ONCE], log)
    Artifact.objects.bulk_create(artifacts)
    if artifacts:
        log.system(say(gettext_noop("Uploaded %(count)s artifact files."), count=len(artifacts)))


def upload_some(run: Run, folder: Folder, paths: list[str], log: RunLog) -> list[Artifact]:
    skipped, opened = skipping(ARTIFACT_SKIPPED, log), []
    with contextlib.ExitStack() as open_files:
        for path in paths:
            try:
                key = check_key(f"runs/{run.id}/artifacts/{path}")
                opened.append((path, key, open_files.enter_context(folder.open_file(path))))
            except ValueError:
                skipped(path, say(gettext_noop("its name cannot be stored")))
            except Refused as refusal:
                skipped(path, refusal.why)
        # Hashed from the same first `size` bytes the store sends, read at their offsets.
        hashes = [sha256_of_open(source) for _, _, source in opened]
        get_store().put_many_open([(source, key) for _, key, source in opened])
    return [
        Artifact(run=run, path=path, size=source.size, sha256=sha256)
        for (path, _, source), sha256 in zip(opened, hashes, strict=True)
    ]


def sha256_of_open(source: OpenFile) -> str:
    digest, done, descriptor = hashlib.sha256(), 0, source.file.fileno()
    while done < source.size:
        chunk = os.pread(descriptor, min(CHUNK, source.size - done), done)
        if not chunk:  # the file shrank since its size was taken
            break
        digest.update(chunk)
        done += len(chunk)
    return digest.hexdigest()


def skipping(pattern: str, log: RunLog) -> Callable[[str, Said], None]:
    """A line in the run's log for each path skipped, with why."""
    return lambda path, why: log.system(say(pattern, path=repr(path), why=why))


def zip_package(workspace: Workspace, log: RunLog) -> Path:
    """The package folder as save() left it, without caches, links or special files."""
    target, skipped = workspace.root / "new-version.zip", skipping(PACKAGE_FILE_SKIPPED, log)
    # The workspace's root is the worker's: only what lies beneath it is the code's to change.
    with (
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
        Folder.open(workspace.root.resolve() / workspace.package.name) as folder,
    ):
        for path in folder.files(skipped):
            parts = set(Path(path).parts)
            if parts & SKIPPED_IN_PACKAGE or path.endswith(".pyc"):
                continue
            try:
                with folder.open_file(path) as source:
                    add_to_zip(archive, path, source)
            except Refused as refusal:
                skipped(path, refusal.why)
    return target


def add_to_zip(archive: zipfile.ZipFile, path: str, source: OpenFile) -> None:
    """What archive.write(path) would add, read from the open file instead."""
    status = os.fstat(source.file.fileno())
    entry = zipfile.ZipInfo(path, time.localtime(status.st_mtime)[:6])
    entry.external_attr = (status.st_mode & 0xFFFF) << 16
    entry.compress_type, entry.file_size = archive.compression, source.size
    left = source.size
    with archive.open(entry, "w") as out:
        while left and (chunk := source.file.read(min(CHUNK, left))):
            out.write(chunk)
            left -= len(chunk)


@dataclass(frozen=True)
class Publication:
    """What a successful run publishes, made ready before anything is registered."""

    score: float | None
    snapshot: Snapshot | None
    trained: CheckedZip | None  # the package folder as save() left it, checked as an upload


class PublicationLost(Exception):
    """The run stopped running (reaped, or a kill was asked for) before it could succeed."""


def prepare(
    run: Run, workspace: Workspace, score: float | None, staged: Staged, log: RunLog
) -> Publication:
    trained = None
    if run.type in {PipelineType.TRAINING, PipelineType.FULL}:
        archive = zip_package(workspace, log)
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
        made = say(MADE_VERSION, version=version.label) if version else ""
        succeeded = run.succeed(
            say(gettext_noop("Run successful.")),
            event=made,
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
    summary["metrics"] = run.metrics.last_values()
    summary["logged_parameters"], summary["tags"] = run.logged_parameters, run.tags
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
