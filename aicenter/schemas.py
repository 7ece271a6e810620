"""The shapes of the API's answers, so that the OpenAPI document is a contract.

The endpoints' serializers build plain dicts; ninja validates each against the
schema declared for its status code and writes only the declared fields.
"""

from typing import Annotated

from ninja import Schema
from pydantic import Field

from aicenter.models import Role

# The serializers write isoformat() strings: a datetime field would rewrite them
# (JSON encoders cut microseconds or turn +00:00 into Z).
Moment = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class FieldErrorOut(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut]


def failures(*codes: int) -> dict[int, type[ErrorOut]]:
    """The error answers of an operation, each in the error shape."""
    return dict.fromkeys(codes, ErrorOut)


class Page[Item](Schema):
    """One page of a list: its items, how many there are in all, and the next page's URL."""

    items: list[Item]
    count: int
    next: str | None


class ProjectOut(Schema):
    id: int
    name: str
    description: str
    role: Role
    created_at: Moment


class ProjectPage(Page[ProjectOut]):
    pass
