"""Snapshots: a folder's files frozen as (path, size, sha256), sharing the dataset's bytes."""

from itertools import batched

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, QuerySet, Sum, Value
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from aicenter.models import Project
from datasets.models import BATCH, Dataset, DatasetFile, Snapshot, SnapshotFile
from datasets.paths import content_type_of, normalise_folder, parent
from datasets.tree import create_dataset


def take_snapshot(dataset: Dataset, folder: str = "", user=None) -> Snapshot:
    """Freeze the files below `folder`, with paths relative to it; no byte is copied."""
    folder = normalise_folder(folder)
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            project_id=dataset.project_id,
            dataset=dataset,
            dataset_name=dataset.name,
            folder=folder,
            created_by=user,
        )
        copy_rows(snapshot, dataset.files_under(folder), cut=len(folder) + 1 if folder else 0)
        totals = snapshot.files.aggregate(count=Count("id"), size=Sum("size"))
        snapshot.file_count, snapshot.total_size = totals["count"], totals["size"] or 0
        snapshot.save(update_fields=["file_count", "total_size"])
    return snapshot


def copy_rows(snapshot: Snapshot, rows: QuerySet, cut: int) -> None:
    """One INSERT ... SELECT: the database copies the rows, with no row passing through Python.

    A run snapshots its data each time it starts, so this is on every run's path.
    """
    selected = (
        rows.order_by()
        .annotate(
            snapshot_column=Value(snapshot.id, output_field=BigIntegerField()),
            relative=Substr("path", cut + 1),
        )
        .values_list("snapshot_column", "relative", "size", "sha256")
    )
    # values_list() selects its columns in the order given (Django 5.2+), matching `columns`.
    sql, params = selected.query.sql_with_params()
    fields = ["snapshot", "path", "size", "sha256"]
    columns = ", ".join(SnapshotFile._meta.get_field(name).column for name in fields)
    table = connection.ops.quote_name(SnapshotFile._meta.db_table)
    insert = f"INSERT INTO {table} ({columns}) {sql}"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        cursor.execute(insert, params)


def dataset_from_snapshot(snapshot: Snapshot, project: Project, name: str, user) -> Dataset:
    """A new dataset holding the snapshot's files at its root; the bytes are shared, not copied."""
    now = timezone.now()
    rows = snapshot.files.order_by().values_list("path", "size", "sha256")
    with transaction.atomic():
        # The description is the new dataset's own, worded once in the language of who made it.
        description = _("Made from the snapshot of %(folder)s.") % {"folder": snapshot}
        dataset = create_dataset(project, name=name, description=description, user=user)
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
