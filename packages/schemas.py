from ninja import Schema

from aicenter.schemas import Moment, Page
from packages.contract import PipelineType
from packages.models import Source


class VersionOut(Schema):
    version: str
    major: int
    minor: int
    source: Source
    run: int | None
    parent: str | None
    score: float | None
    snapshot: int | None
    supported_types: list[PipelineType]
    size: int
    sha256: str
    created_at: Moment


class PackageFields(Schema):
    id: int
    name: str
    description: str
    python_version: str
    created_at: Moment


class PackageOut(PackageFields):
    """One package with all its versions, oldest first."""

    versions: list[VersionOut]


class ListedPackageOut(PackageFields):
    latest_version: VersionOut | None


class PackagePage(Page[ListedPackageOut]):
    pass
