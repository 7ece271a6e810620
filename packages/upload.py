"""Uploading a package zip: check it all, store it once, then register the version."""

import hashlib
import logging
import tempfile
import uuid
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aicenter.archives import (
    ArchiveLimits,
    archive_problems,
    damaged_members,
    layout_problems,
    open_zip,
)
from aicenter.models import EventKind, record_event
from aicenter.store import STORE_ERRORS, get_store
from aicenter.wording import COMMA, said_problems, say, together
from packages.contract import TYPE_WORDS, check_contract
from packages.models import MLPackage, PackageVersion, Source

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
# The Activity's lines, worded for each reader; a refusal lists every problem, one a line.
REFUSED = gettext_noop("%(name)s: upload refused.\n%(reasons)s")
UPLOADED = gettext_noop("%(version)s: uploaded; it can run %(kinds)s.")
UPLOADED_UNRUNNABLE = gettext_noop("%(version)s: uploaded; it can run no pipeline type.")


@dataclass
class CheckedZip:
    path: Path
    size: int
    sha256: str
    root: str
    files: list[list]
    supported_types: list[str]
    requirements: str

    key: str = ""


def upload_package(
    project, *, name: str, description: str, python_version: str, file: UploadedFile, user
) -> PackageVersion:
    """A new package with version 1.0, or ValidationError listing every problem."""
    with (
        refusal_recorded(project, name, user),
        checked_zip(file) as checked,
        stored(checked, project),
        transaction.atomic(),
    ):
        package = MLPackage.objects.create(
            project=project,
            name=name,
            description=description,
            python_version=python_version,
            created_by=user,
        )
        version = register_version(package, checked, major=1, minor=0, created_by=user)
    return uploaded(version, user)


def upload_major_version(package: MLPackage, file: UploadedFile, user) -> PackageVersion:
    """Version N+1.0 of an existing package."""
    with (
        refusal_recorded(package.project, package.name, user),
        checked_zip(file) as checked,
        stored(checked, package.project),
        transaction.atomic(),
    ):
        locked = MLPackage.objects.select_for_update().get(id=package.id)
        highest = locked.versions.aggregate(highest=Max("major"))["highest"] or 0
        version = register_version(locked, checked, major=highest + 1, minor=0, created_by=user)
    return uploaded(version, user)


@contextmanager
def refusal_recorded(project, name: str, user):
    """The project's activity keeps every refused upload with its reasons."""
    try:
        yield
    except ValidationError as error:
        message = say(REFUSED, name=name, reasons=said_problems(error))
        record_event(project, EventKind.PACKAGE_REFUSED, message, user=user)
        raise


def uploaded(version: PackageVersion, user) -> PackageVersion:
    kinds = together([say(TYPE_WORDS[kind]) for kind in version.supported_types], COMMA)
    if kinds:
        message = say(UPLOADED, version=str(version), kinds=kinds)
    else:
        message = say(UPLOADED_UNRUNNABLE, version=str(version))
    link = version.get_absolute_url()
    record_event(version.package.project_id, EventKind.PACKAGE_UPLOADED, message, user, link)
    return version


def register_trained_version(
    parent: PackageVersion, checked: CheckedZip, score: float | None
) -> PackageVersion:
    """Version N.(highest minor of N + 1), made by a run from `parent`.

    Call inside a transaction: the package row stays locked until it commits, so
    runs finishing together never get the same number.
    """
    locked = MLPackage.objects.select_for_update().get(id=parent.package_id)
    versions = locked.versions.filter(major=parent.major)
    highest = versions.aggregate(highest=Max("minor"))["highest"] or 0
    return register_version(
        locked,
        checked,
        major=parent.major,
        minor=highest + 1,
        source=Source.RUN,
        parent=parent,
        score=score,
    )


def register_version(
    package: MLPackage, checked: CheckedZip, *, major: int, minor: int, **fields
) -> PackageVersion:
    return PackageVersion.objects.create(
        package=package,
        major=major,
        minor=minor,
        supported_types=checked.supported_types,
        requirements=checked.requirements,
        files=checked.files,
        zip_root=checked.root,
        zip_key=checked.key,
        size=checked.size,
        sha256=checked.sha256,
        **fields,
    )


@contextmanager
def checked_zip(file: UploadedFile):
    """The upload on disk with its hash, once every check passed; else ValidationError."""
    if hasattr(file, "temporary_file_path"):
        # Django spooled it to disk already: check it where it lies instead of copying it.
        path = Path(file.temporary_file_path())
        yield inspect(path, *hash_file(path))
        return
    with tempfile.TemporaryDirectory(dir=settings.FILE_UPLOAD_TEMP_DIR) as folder:
        path = Path(folder) / "package.zip"
        file.seek(0)
        with open(path, "wb") as out:
            size, sha256 = hashed_copy(file.chunks(CHUNK), out)
        yield inspect(path, size, sha256)


def zip_problems(file: UploadedFile) -> list[str]:
    """Every problem of the zip alone, for an upload refused for another reason too."""
    try:
        with checked_zip(file):
            return []
    except ValidationError as error:
        return error.messages


def hash_file(path: Path) -> tuple[int, str]:
    with open(path, "rb") as source:
        return hashed_copy(iter(lambda: source.read(CHUNK), b""))


def hashed_copy(chunks, out=None) -> tuple[int, str]:
    """Size and sha256 of the chunks, written to `out` on the way when given."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)
    return size, digest.hexdigest()


def inspect(path: Path, size: int, sha256: str) -> CheckedZip:
    """The zip's facts once every check passed; else ValidationError listing every problem."""
    archive, problems = open_zip(path)
    if archive is None:
        raise ValidationError({"file": problems})
    with archive:
        limits = ArchiveLimits(
            max_entries=settings.PACKAGE_MAX_ENTRIES,
            max_uncompressed_bytes=settings.PACKAGE_MAX_UNCOMPRESSED_BYTES,
        )
        problems = archive_problems(archive, limits) + layout_problems(archive)
        contract = check_contract(archive)
        problems += contract.problems
        if not problems:  # inflating every member is safe once the limits hold
            problems = damaged_members(archive)
        if problems:
            raise ValidationError({"file": problems})
        files = listed_files(archive, contract.root)
    return CheckedZip(
        path, size, sha256, contract.root, files, contract.supported_types, contract.requirements
    )


def listed_files(archive: zipfile.ZipFile, root: str) -> list[list]:
    return [
        [member.filename.removeprefix(root), member.file_size]
        for member in archive.infolist()
        if not member.is_dir() and member.filename.startswith(root)
    ]


@contextmanager
def stored(checked: CheckedZip, project):
    """Put the zip in the store; take it out again if registering the version fails."""
    checked.key = f"projects/{project.id}/packages/{uuid.uuid4().hex}.zip"
    store = get_store()
    store.put_file(checked.key, checked.path)
    try:
        yield
    except BaseException:
        # The reason registering failed is what the caller must see, not a failed clean-up.
        try:
            store.delete(checked.key)
        except (*STORE_ERRORS, OSError):
            logger.exception("An unregistered package zip stays in the store: %s", checked.key)
        raise


def delete_package(package: MLPackage, user=None) -> None:
    """Remove the package, its versions and their stored zips, unless a run still needs them."""
    # A run that has not ended (scheduled, packaging or running) has no end time.
    if package.versions.filter(runs__isnull=False, runs__ended_at__isnull=True).exists():
        raise ValidationError(
            _("%(name)s is used by a scheduled or running run; stop it first.")
            % {"name": package.name}
        )
    keys = list(package.versions.values_list("zip_key", flat=True))
    deleted = say(gettext_noop("%(name)s: deleted."), name=package.name)
    record_event(package.project_id, EventKind.PACKAGE_DELETED, deleted, user)
    package.delete()
    store = get_store()
    for key in keys:
        store.delete(key)
