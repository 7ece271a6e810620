from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from aicenter.schemas import Moment, Page


class DatasetOut(Schema):
    id: int
    name: str
    description: str
    file_count: int
    size: int
    created_at: Moment
    updated_at: Moment


class DatasetPage(Page[DatasetOut]):
    pass


class FileOut(Schema):
    name: str
    path: str
    kind: Literal["file"]
    size: int
    sha256: str
    content_type: str
    updated_at: Moment


class FolderOut(Schema):
    name: str
    path: str
    kind: Literal["folder"]
    size: int
    sha256: None
    file_count: int


class EntryPage(Page[Annotated[FileOut | FolderOut, Field(discriminator="kind")]]):
    """A folder's entries: its folders first, then its files."""


class UploadOut(Schema):
    count: int
    replaced: list[str]
    files: list[FileOut]
