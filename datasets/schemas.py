from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from aicenter.schemas import Moment, Page
from datasets.sync import MOST_LISTED


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


class ListedFileIn(Schema):
    path: str
    sha256: str


class HeldIn(Schema):
    path: str = Field("", description="The dataset's folder the paths are relative to.")
    files: list[ListedFileIn] = Field(max_length=MOST_LISTED)


class HeldOut(Schema):
    held: list[str] = Field(
        description="The listed paths where the dataset holds a file with that sha256."
    )
    others: list[str] | None = Field(
        description="With ?others=true, the dataset's files below the folder that the list "
        "does not name; else null."
    )
