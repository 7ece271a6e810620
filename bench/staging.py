"""3. Staging a dataset into a run's workspace, cold (from the store) and warm (blob cache)."""

import shutil
from pathlib import Path

from bench import baselines
from bench.data import MB, dataset_of, random_files
from bench.measure import Row, Target, paired
from bench.service import Bench, store

SHAPES = [("1,000 x 10 KB", 1000, 10 * 1024), ("10 x 50 MB", 10, 50 * MB)]
QUICK_SHAPES = [("100 x 10 KB", 100, 10 * 1024), ("2 x 5 MB", 2, 5 * MB)]
COLD_TARGET = Target("ratio", 1.2, "ratio <= 1.2")
WARM_TARGET = Target("ratio", 2.0, "ratio <= 2")


def staging(bench: Bench) -> list[Row]:
    rows = []
    for kind in bench.stores:
        with store(kind) as where:
            for label, count, size in QUICK_SHAPES if bench.quick else SHAPES:
                folder = bench.scratch(f"staging-{kind}-{count}")
                dataset = dataset_of(
                    bench.project("Staging"),
                    f"{folder.name}-data",
                    random_files(folder / "source", count, size),
                )
                rows += measure_shape(bench, dataset, folder, f"{label}, {where}")
                shutil.rmtree(folder)
    return rows


def measure_shape(bench: Bench, dataset, folder: Path, label: str) -> list[Row]:
    target, warm_tree = folder / "target", folder / "warm"
    repeats = bench.repeats(5)
    cold = paired(
        repeats,
        cleaner(dataset, target, cache=True),
        lambda: stage_into(dataset, target),
        lambda: plain_download(dataset, target),
    )
    stage_into(dataset, target)
    target.rename(warm_tree)
    warm = paired(
        repeats,
        cleaner(dataset, target, cache=False),
        lambda: stage_into(dataset, target),
        lambda: baselines.hard_link_tree(warm_tree, target),
    )
    cleaner(dataset, target, cache=True)()
    return [
        Row("3 staging", f"cold, {label}", "s", cold[0], plain_name(), cold[1], COLD_TARGET),
        Row("3 staging", f"warm, {label}", "s", warm[0], "cp -al", warm[1], WARM_TARGET),
    ]


def stage_into(dataset, target: Path) -> None:
    from pipelines.runner.stage import stage_folder

    stage_folder(dataset, "", target)


def cleaner(dataset, target: Path, cache: bool):
    """Removes the staged tree and its snapshots, and with `cache` the worker's blob cache."""
    from django.conf import settings

    from datasets.models import Snapshot

    def clean():
        shutil.rmtree(target, ignore_errors=True)
        Snapshot.objects.filter(dataset=dataset).delete()
        if cache:
            shutil.rmtree(Path(settings.WORKER_DIR) / "blobs", ignore_errors=True)

    return clean


def plain_download(dataset, target: Path) -> None:
    """The dataset's objects fetched to the same paths without the service."""
    from django.conf import settings

    from aicenter.store import get_store
    from datasets.models import Blob

    files = dataset.files.values_list("path", "sha256")
    pairs = [(Blob.key_for(sha256), target / path) for path, sha256 in files]
    if settings.STORE["kind"] == "s3":
        baselines.s3_download(settings.STORE, pairs)
    else:
        root = Path(get_store().root)
        baselines.copy_files([(root / key, path) for key, path in pairs])


def plain_name() -> str:
    from django.conf import settings

    return "concurrent GETs" if settings.STORE["kind"] == "s3" else "concurrent copies"
