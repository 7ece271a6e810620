"""Snapshots: a folder's files frozen as (path, size, sha256), sharing the dataset's bytes."""

from itertools import batched

from django.db import transaction
from django.utils import timezone

from aicenter.models import Project
from datasets.models import BATCH, Dataset, DatasetFile, Snapshot, SnapshotFile
from datasets.paths import content_type_of, normalise_folder, parent
from datasets.tree import create_dataset


def take_snapshot(dataset: Dataset, folder: str = "", user=None) -> Snapshot:
    """Freeze the files below `folder`, with paths relative to it; no byte is copied."""
    folder = normalise_folder(folder)
    cut = len(folder) + 1 if folder else 0
    rows = dataset.files_under(folder).order_by().values_list("path", "size", "sha256")
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            project_id=dataset.project_id,
            dataset=dataset,
            dataset_name=dataset.name,
            folder=folder,
            created_by=user,
        )
        for batch in batched(rows.iterator(chunk_size=BATCH), BATCH):
            SnapshotFile.objects.bulk_create(
                SnapshotFile(snapshot=snapshot, path=path[cut:], size=size, sha256_id=sha256)
                for path, size, sha256 in batch
            )
            snapshot.file_count += len(batch)
            snapshot.total_size += sum(size for _, size, _ in batch)
        snapshot.save(update_fields=["file_count", "total_size"])
    return snapshot


def dataset_from_snapshot(snapshot: Snapshot, project: Project, name: str, user) -> Dataset:
    """A new dataset holding the snapshot's files at its root; the bytes are shared, not copied."""
    now = timezone.now()
    rows = snapshot.files.order_by().values_list("path", "size", "sha256")
    with transaction.atomic():
        dataset = create_dataset(
            project, name=name, description=f"Made from the snapshot of {snapshot}.", user=user
        )
        for batch in batched(rows.iterator(chunk_size=BATCH), BATCH):
            DatasetFile.objects.bulk_create(
                DatasetFile(
                    dataset=dataset,
                    path=path,
                    folder=parent(path),
                    size=size,
                    sha256_id=sha256,
                    content_type=content_type_of(path),
                    created_at=now,
                    updated_at=now,
                )
                for path, size, sha256 in batch
            )
    return dataset
