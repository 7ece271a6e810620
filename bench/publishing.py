"""4. Publishing a run's artifacts, and what a snapshot of a large folder costs the store."""

import shutil

from bench import baselines
from bench.data import MB, dataset_of, random_files
from bench.measure import Row, Target, paired
from bench.service import Bench, store

ARTIFACTS = (100, 2 * MB)
QUICK_ARTIFACTS = (10, 1 * MB)
SNAPSHOT_FOLDER = (50, 10 * MB)
QUICK_SNAPSHOT_FOLDER = (5, 1 * MB)
UPLOAD_TARGET = Target("ratio", 1.2, "ratio <= 1.2")
SNAPSHOT_TARGET = Target("median", 1.0, "< 1 MB")
BASELINE_PREFIX = "plain-upload"


def publishing(bench: Bench) -> list[Row]:
    rows = []
    for kind in bench.stores:
        with store(kind) as where:
            rows.append(artifacts_upload(bench, where))
            rows.append(snapshot_growth(bench, kind, where))
    return rows


def artifacts_upload(bench: Bench, where: str) -> Row:
    from django.conf import settings

    from aicenter.store import get_store
    from pipelines.runner.logs import RunLog
    from pipelines.runner.publish import upload_artifacts

    count, size = QUICK_ARTIFACTS if bench.quick else ARTIFACTS
    folder = bench.scratch("artifacts")
    files = random_files(folder / "artifacts", count, size)
    runs = []

    def prepare():
        get_store().delete_prefix("runs/")
        get_store().delete_prefix(f"{BASELINE_PREFIX}/")
        shutil.rmtree(folder / "copies", ignore_errors=True)
        runs.append(bench_run(bench))

    def uploaded():
        upload_artifacts(runs[-1], folder / "artifacts", RunLog(runs[-1]))

    def plain():
        if settings.STORE["kind"] == "s3":
            pairs = [(path, f"{BASELINE_PREFIX}/{relative}") for relative, path in files]
            baselines.s3_upload(settings.STORE, pairs)
        else:
            baselines.copy_files([(path, folder / "copies" / relative) for relative, path in files])

    service, baseline = paired(bench.repeats(5), prepare, uploaded, plain)
    prepare()
    shutil.rmtree(folder)
    kind = "PUTs" if settings.STORE["kind"] == "s3" else "copies"
    total = count * size // MB
    return Row(
        "4 publishing",
        f"{count} artifacts, {total} MB, {where}",
        "s",
        service,
        f"concurrent {kind}",
        baseline,
        UPLOAD_TARGET,
    )


def bench_run(bench: Bench):
    """A run as a worker holds it while it publishes."""
    from django.utils import timezone

    from pipelines.models import Run, Status

    project = bench.project("Publishing")
    return Run.objects.create(
        project=project,
        pipeline_name="publishing",
        type="training",
        package_version=bench_version(bench, project),
        time_limit=3600,
        status=Status.RUNNING,
        started_at=timezone.now(),
    )


def bench_version(bench: Bench, project):
    from packages.examples import EXAMPLES, zip_folder
    from packages.models import PackageVersion
    from packages.upload import upload_package
    from tests.factories import uploaded

    found = PackageVersion.objects.filter(package__project=project).first()
    return found or upload_package(
        project,
        name="flowers-stdlib",
        description="",
        python_version="3.12",
        file=uploaded(zip_folder(EXAMPLES / "flowers-stdlib")),
        user=bench.owner,
    )


def snapshot_growth(bench: Bench, kind: str, where: str) -> Row:
    from aicenter.store import get_store
    from datasets.snapshots import take_snapshot

    count, size = QUICK_SNAPSHOT_FOLDER if bench.quick else SNAPSHOT_FOLDER
    folder = bench.scratch("snapshot")
    dataset = dataset_of(
        bench.project("Publishing"), f"large-{kind}", random_files(folder, count, size)
    )
    shutil.rmtree(folder)
    growth = []
    for _ in range(bench.repeats(3)):
        before = stored_bytes(get_store())
        take_snapshot(dataset)
        growth.append((stored_bytes(get_store()) - before) / MB)
    return Row(
        "4 publishing",
        f"store growth, snapshot of {count * size // MB} MB, {where}",
        "MB",
        growth,
        target=SNAPSHOT_TARGET,
    )


def stored_bytes(store) -> int:
    return sum(stored.size for stored in store.list(""))
