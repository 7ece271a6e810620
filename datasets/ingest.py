"""Uploads into a dataset: many files, a zip, or one file by PUT.

Every upload goes the same way: check every path, stage each file on disk
while hashing it (never whole in memory), put the contents the store lacks,
then register every row in one transaction. Until that transaction commits
the tree is exactly as it was; contents stored for an upload that failed are
removed by garbage collection.
"""

import hashlib
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import batched
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aicenter.archives import (
    UNREADABLE,
    ArchiveLimits,
    archive_problems,
    member_chunks,
    open_zip,
    path_problems,
    unreadable_member,
)
from aicenter.store import get_store
from aicenter.wording import say
from datasets.models import BATCH, Blob, Dataset, DatasetFile, DatasetFolder
from datasets.paths import (
    ancestors,
    content_type_of,
    join,
    normalise_all,
    normalise_folder,
    normalise_path,
    parent,
)
from datasets.tree import (
    ADDED,
    ADDED_ONE,
    check_tree,
    existing_files,
    locked,
    problems_of,
    record_change,
    tree_problems,
)

CHUNK = 1 << 20
UPDATED_FIELDS = ["size", "sha256", "content_type", "updated_at"]


@dataclass(frozen=True)
class Staged:
    """One incoming file on local disk, with its place in the dataset and its hash."""

    path: str
    source: Path
    size: int
    sha256: str


@dataclass
class Upload:
    folder: str
    files: list[DatasetFile]
    replaced: set[str] = field(default_factory=set)

    @property
    def created(self) -> int:
        return len(self.files) - len(self.replaced)


def upload_files(dataset: Dataset, folder: str, files: list[tuple[str, File]], user=None) -> Upload:
    """Create or replace each (relative path, file) below `folder`."""
    with problems_of("path"):
        target = normalise_folder(folder)
    with problems_of("files"):
        paths = target_paths(target, [relative for relative, _ in files])
        check_tree(dataset, paths)
    with staging_area() as area:
        staged = [
            stage_upload(path, upload, area) for path, (_, upload) in zip(paths, files, strict=True)
        ]
        with problems_of("files"):
            return commit(dataset, target, staged, user=user)


def upload_zip(dataset: Dataset, folder: str, archive: File, user=None) -> Upload:
    """Extract the zip below `folder`, or refuse it whole listing every problem."""
    with problems_of("path"):
        target = normalise_folder(folder)
    with staging_area() as area, problems_of("archive"):
        opened, problems = open_zip(spooled(archive, area))
        if opened is None:
            raise ValidationError(problems)
        with opened:
            members, folders = zip_plan(dataset, opened, target)
            staged = [stage_member(opened, member, path, area) for path, member in members]
        return commit(dataset, target, staged, folders, user)


def put_file(dataset: Dataset, path: str, chunks: Iterable[bytes], user=None) -> Upload:
    """Create or replace the one file at `path` from a stream of bytes, within the size limit."""
    with problems_of("path"):
        path = normalise_path(path)
        check_tree(dataset, [path])
    with staging_area() as area:
        with problems_of("body"):
            staged = stage_chunks(path, chunks, area, limit=settings.MAX_UPLOAD_BYTES)
        with problems_of("path"):
            return commit(dataset, parent(path), [staged], user=user)


def target_paths(folder: str, relatives: list[str]) -> list[str]:
    """Each relative path placed in `folder`; every problem listed at once."""
    return normalise_all(join(folder, path) for path in normalise_all(relatives))


@contextmanager
def staging_area() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(
        dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="dataset-"
    ) as folder:
        yield Path(folder)


class Hashing:
    """Counts and hashes the chunks that flow through it, refusing more than `limit` bytes."""

    def __init__(self, limit: int | None = None) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.size += len(chunk)
            if self.limit is not None and self.size > self.limit:
                raise ValidationError(
                    _("The file is larger than the limit of %(limit)s bytes.")
                    % {"limit": f"{self.limit:,}"}
                )
            self.digest.update(chunk)
            yield chunk

    def staged(self, path: str, source: Path) -> Staged:
        return Staged(path, source, self.size, self.digest.hexdigest())


def stage_chunks(
    path: str, chunks: Iterable[bytes], area: Path, limit: int | None = None
) -> Staged:
    hashing, target = Hashing(limit), area / uuid.uuid4().hex
    with open(target, "wb") as out:
        for chunk in hashing.feed(chunks):
            out.write(chunk)
    return hashing.staged(path, target)


def read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def stage_upload(path: str, upload: File, area: Path) -> Staged:
    if hasattr(upload, "temporary_file_path"):
        # Django spooled it to disk already: hash it where it lies instead of copying it.
        source = Path(upload.temporary_file_path())
        hashing = Hashing()
        for _ in hashing.feed(read_chunks(source)):
            pass
        return hashing.staged(path, source)
    upload.seek(0)
    return stage_chunks(path, upload.chunks(CHUNK), area)


def spooled(upload: File, area: Path) -> Path:
    """The upload as a file on disk, copied only if Django kept it in memory."""
    if hasattr(upload, "temporary_file_path"):
        return Path(upload.temporary_file_path())
    upload.seek(0)
    return stage_chunks("", upload.chunks(CHUNK), area).source


def zip_plan(
    dataset: Dataset, archive: zipfile.ZipFile, target: str
) -> tuple[list[tuple[str, zipfile.ZipInfo]], list[str]]:
    """(path, member) of each file and the empty folders; else every problem at once."""
    limits = ArchiveLimits(
        max_entries=settings.DATASET_MAX_ENTRIES,
        max_uncompressed_bytes=settings.DATASET_MAX_UNCOMPRESSED_BYTES,
    )
    problems = archive_problems(archive, limits)
    # Unsafe names are named by archive_problems already, exact repeats too.
    safe = {m.filename: m for m in archive.infolist() if not path_problems(m.filename)}
    files = [member for member in safe.values() if not member.is_dir()]
    paths, folders = [], []
    try:
        paths = target_paths(target, [member.filename for member in files])
        folders = target_paths(
            target, [m.filename.rstrip("/") for m in safe.values() if m.is_dir()]
        )
    except ValidationError as error:
        problems += error.messages
    if not problems:
        problems += tree_problems(dataset, paths, folders)
    if problems:
        raise ValidationError(problems)
    holding = {above for path in paths for above in ancestors(path)}
    empty = [folder for folder in folders if folder not in holding]
    return list(zip(paths, files, strict=True)), empty


def stage_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: str, area: Path
) -> Staged:
    try:
        return stage_chunks(path, member_chunks(archive, member), area)
    except UNREADABLE:
        raise ValidationError(unreadable_member(member)) from None


def commit(
    dataset: Dataset, target: str, staged: list[Staged], folders: Iterable[str] = (), user=None
) -> Upload:
    store_blobs(staged)
    upload = Upload(target, *register(dataset, staged, folders))
    where = f"{dataset.name}/{target}" if target else dataset.name
    pattern = ADDED_ONE if upload.created == 1 else ADDED
    added = say(pattern, where=where, count=upload.created, replaced=len(upload.replaced))
    record_change(dataset, added, user)
    return upload


def store_blobs(staged: list[Staged]) -> None:
    """Put each content the store lacks; its Blob row is made only once its bytes are stored."""
    unique = {item.sha256: item for item in staged}
    present = set()
    for batch in batched(unique, BATCH):
        present.update(Blob.objects.filter(sha256__in=batch).values_list("sha256", flat=True))
    missing = [item for sha256, item in unique.items() if sha256 not in present]
    get_store().put_many([(item.source, Blob.key_for(item.sha256)) for item in missing])
    Blob.objects.bulk_create(
        [Blob(sha256=item.sha256, size=item.size) for item in missing],
        ignore_conflicts=True,
        batch_size=BATCH,
    )


def register(
    dataset: Dataset, staged: list[Staged], folders: Iterable[str] = ()
) -> tuple[list[DatasetFile], set[str]]:
    """Create or replace every row at once; the rows and the paths replaced.

    The tree rule is checked again under the dataset's lock: another upload may
    have changed the tree since the first check.
    """
    now = timezone.now()
    rows = [
        DatasetFile(
            dataset=dataset,
            path=item.path,
            folder=parent(item.path),
            size=item.size,
            sha256_id=item.sha256,
            content_type=content_type_of(item.path),
            created_at=now,
            updated_at=now,
        )
        for item in staged
    ]
    folders = list(folders)
    with transaction.atomic():
        locked(dataset)
        check_tree(dataset, [row.path for row in rows], folders)
        replaced = existing_files(dataset, [row.path for row in rows])
        DatasetFile.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["dataset", "path"],
            update_fields=UPDATED_FIELDS,
            batch_size=BATCH,
        )
        DatasetFolder.objects.bulk_create(
            [DatasetFolder(dataset=dataset, path=path) for path in folders],
            ignore_conflicts=True,
            batch_size=BATCH,
        )
        dataset.touch()
    return rows, replaced
