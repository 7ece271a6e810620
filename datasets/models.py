from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Substr
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aicenter.models import Project
from aicenter.validators import name_characters
from datasets.paths import MAX_PATH_BYTES, ancestors, breadcrumbs, join, parent

BATCH = 1000


class BlobQuerySet(models.QuerySet):
    def unreferenced(self) -> "BlobQuerySet":
        """Blobs that no row of any model points to (files, snapshot files, and any later one)."""
        queryset = self
        for relation in Blob._meta.get_fields(include_hidden=True):
            if relation.auto_created and relation.is_relation and not relation.concrete:
                referrers = relation.related_model._base_manager.filter(
                    **{relation.field.name: OuterRef("pk")}
                )
                queryset = queryset.filter(~Exists(referrers))
        return queryset

    def total_size(self) -> int:
        return self.aggregate(total=Sum("size"))["total"] or 0


class Blob(models.Model):
    """One distinct content: its bytes live once in the store, under its hash."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = BlobQuerySet.as_manager()

    def __str__(self) -> str:
        return self.sha256

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"blobs/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    @property
    def key(self) -> str:
        return self.key_for(self.sha256)


def validate_new_name(project: Project, name: str) -> None:
    name_characters(name)
    if Dataset.objects.filter(project=project, name=name).exists():
        raise ValidationError(
            _("The project already has a dataset named %(name)s.") % {"name": name}
        )


class DatasetQuerySet(models.QuerySet):
    def with_summary(self) -> "DatasetQuerySet":
        summary = self.annotate(file_count=Count("files"), total_size=Sum("files__size"))
        return summary.order_by("name")


class Dataset(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=80, validators=[name_characters])
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="dataset_name_unique_in_project"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("datasets:browse", args=[self.project_id, self.id])

    def touch(self) -> None:
        self.updated_at = timezone.now()
        Dataset.objects.filter(id=self.id).update(updated_at=self.updated_at)

    def files_under(self, folder: str) -> "DatasetFileQuerySet":
        return self.files.under(folder)

    def holding_folders(self) -> set[str]:
        """The folders that hold files, directly or below."""
        folders = self.files.exclude(folder="").order_by().values_list("folder", flat=True)
        direct = set(folders.distinct())
        return direct | {above for path in direct for above in ancestors(path)}

    def totals(self, folder: str = "") -> dict:
        """{file_count, total_size} of every file below `folder`."""
        return self.files_under(folder).aggregate(file_count=Count("id"), total_size=Sum("size"))

    def folder_paths(self) -> set[str]:
        """Every folder of the tree: those holding files, and the empty ones made on purpose."""
        explicit = set(self.folders.values_list("path", flat=True))
        explicit |= {above for path in explicit for above in ancestors(path)}
        return self.holding_folders() | explicit

    def has_folder(self, path: str) -> bool:
        if not path:
            return True
        return self.files_under(path).exists() or self.folders.under(path, inclusive=True).exists()

    def folder(self, path: str) -> "Folder":
        """A folder's direct sub-folders (with their totals) and files, from the database only."""
        folders: dict[str, FolderEntry] = {}
        deeper = self.files_under(path).exclude(folder=path)
        for row in deeper.values("folder").annotate(size=Sum("size"), count=Count("id")):
            entry = self._entry(folders, path, row["folder"])
            entry.size += row["size"]
            entry.file_count += row["count"]
        for explicit in self.folders.under(path).values_list("path", flat=True):
            self._entry(folders, path, explicit)
        return Folder(
            dataset=self,
            path=path,
            folders=sorted(folders.values(), key=lambda entry: entry.name),
            files=self.files.filter(folder=path).order_by("path"),
        )

    @staticmethod
    def _entry(folders: dict, path: str, below: str) -> "FolderEntry":
        name = below[len(path) + 1 :].split("/")[0] if path else below.split("/")[0]
        if name not in folders:
            folders[name] = FolderEntry(name=name, path=join(path, name))
        return folders[name]


def below(field: str, folder: str) -> Q:
    """Rows whose `field` lies below `folder`, compared case-sensitively on every database."""
    if not folder:
        return Q()
    prefix = folder + "/"
    # SQLite's LIKE ignores case, so startswith alone would match "Train/" for "train/".
    head = Exact(Substr(field, 1, len(prefix)), Value(prefix))
    return Q(**{f"{field}__startswith": prefix}) & Q(head)


def zip_rows(rows: models.QuerySet, cut: int = 0) -> Iterator[tuple[str, str, int]]:
    """(path without its first `cut` characters, blob key, size) from (path, sha256, size) rows."""
    for path, sha256, size in rows.order_by("path").iterator(chunk_size=BATCH):
        yield path[cut:], Blob.key_for(sha256), size


class DatasetFileQuerySet(models.QuerySet):
    def under(self, folder: str) -> "DatasetFileQuerySet":
        return self.filter(below("path", folder))


class DatasetFile(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=MAX_PATH_BYTES)
    folder = models.CharField(max_length=MAX_PATH_BYTES, blank=True)
    size = models.BigIntegerField()
    sha256 = models.ForeignKey(
        Blob, on_delete=models.PROTECT, db_column="sha256", related_name="dataset_files"
    )
    content_type = models.CharField(max_length=200, default="application/octet-stream")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = DatasetFileQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "path"], name="file_path_unique_in_dataset")
        ]
        indexes = [models.Index(fields=["dataset", "folder"], name="file_in_folder")]

    def __str__(self) -> str:
        return self.path

    def get_absolute_url(self) -> str:
        return reverse("datasets:file", args=[self.dataset.project_id, self.dataset_id, self.path])

    kind = "file"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def key(self) -> str:
        return Blob.key_for(self.sha256_id)


class DatasetFolderQuerySet(models.QuerySet):
    def under(self, folder: str, inclusive: bool = False) -> "DatasetFolderQuerySet":
        condition = below("path", folder)
        return self.filter(condition | Q(path=folder) if inclusive else condition)


class DatasetFolder(models.Model):
    """A folder made on purpose; folders that hold files exist without a row."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="folders")
    path = models.CharField(max_length=MAX_PATH_BYTES)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DatasetFolderQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "path"], name="folder_path_unique_in_dataset"
            )
        ]

    def __str__(self) -> str:
        return self.path


@dataclass
class FolderEntry:
    name: str
    path: str
    size: int = 0
    file_count: int = 0
    kind = "folder"


@dataclass
class Folder:
    dataset: Dataset
    path: str
    folders: list[FolderEntry]
    files: models.QuerySet

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1] or self.dataset.name

    @property
    def breadcrumbs(self) -> list[tuple[str, str]]:
        return breadcrumbs(self.path)

    @property
    def parent(self) -> str:
        return parent(self.path)

    @property
    def entries(self) -> "Entries":
        return Entries(self.folders, self.files)

    @property
    def download_name(self) -> str:
        if not self.path:
            return f"{self.dataset.name}.zip"
        return f"{self.dataset.name}-{self.name}.zip"

    def zip_entries(self) -> Iterator[tuple[str, str, int]]:
        """(path relative to this folder, blob key, size) of every file below it."""
        rows = self.dataset.files_under(self.path).values_list("path", "sha256", "size")
        return zip_rows(rows, cut=len(self.path) + 1 if self.path else 0)

    def empty_folders(self) -> list[str]:
        """Folders made on purpose below this one that hold no file, relative to it."""
        holding = self.dataset.holding_folders()
        cut = len(self.path) + 1 if self.path else 0
        explicit = self.dataset.folders.under(self.path).values_list("path", flat=True)
        return [path[cut:] for path in explicit if path not in holding]

    def totals(self) -> dict:
        return self.dataset.totals(self.path)


class Entries:
    """Folders then files, as one sequence a Paginator slices without loading every file."""

    def __init__(self, folders: list[FolderEntry], files: models.QuerySet) -> None:
        self.folders = folders
        self.files = files

    def count(self) -> int:
        return len(self.folders) + self.files.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list:
        start, stop = window.start or 0, window.stop
        folders = self.folders[start:stop]
        file_start = max(start - len(self.folders), 0)
        file_stop = None if stop is None else max(stop - len(self.folders), 0)
        return [*folders, *self.files[file_start:file_stop]]


class Snapshot(models.Model):
    """A frozen list of (path, size, sha256) taken from a folder of a dataset; no bytes."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="snapshots")
    dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    dataset_name = models.CharField(max_length=80)
    folder = models.CharField(max_length=MAX_PATH_BYTES, blank=True)
    file_count = models.PositiveIntegerField(default=0)
    total_size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset_name}/{self.folder}".rstrip("/")

    @property
    def download_name(self) -> str:
        return f"{self.dataset_name}-snapshot-{self.id}.zip"

    def zip_entries(self) -> Iterator[tuple[str, str, int]]:
        """(path, blob key, size) of every file, for datasets.zips.zip_stream."""
        return zip_rows(self.files.values_list("path", "sha256", "size"))


class SnapshotFile(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(
        max_length=MAX_PATH_BYTES, help_text="Relative to the snapshot's folder."
    )
    size = models.BigIntegerField()
    sha256 = models.ForeignKey(
        Blob, on_delete=models.PROTECT, db_column="sha256", related_name="snapshot_files"
    )

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "path"], name="path_unique_in_snapshot")
        ]

    def __str__(self) -> str:
        return self.path
