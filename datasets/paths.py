"""Paths inside a dataset: POSIX separators, Unicode NFC, no leading slash.

Every path that enters a dataset goes through `normalise_path`, so the tree
never holds a name that could escape a folder when a run materialises it.
"""

import mimetypes
import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aicenter.archives import OF_ENTRY
from aicenter.paths import (  # noqa: F401 (MAX_PATH_BYTES and ancestors are this module's too)
    MAX_PATH_BYTES,
    ancestors,
    character_problem,
    shape_problem,
)
from aicenter.wording import say


def normalise_path(raw: str) -> str:
    """The path in its one stored form, or ValidationError saying what is wrong with it."""
    shown = raw.replace("\0", "\\0")
    problem = character_problem(raw)
    if problem is None:
        path = unicodedata.normalize("NFC", raw)
        problem = shape_problem(path)
    if problem is not None:
        raise ValidationError(say(OF_ENTRY, name=shown, problem=problem) if raw else problem)
    return path


def normalise_folder(raw: str) -> str:
    """A folder given by a person: "" and "/" are the root, surrounding slashes are ignored."""
    folder = (raw or "").strip("/")
    return normalise_path(folder) if folder else ""


def normalise_all(raws: Iterable[str]) -> list[str]:
    """Every path normalised, or one ValidationError listing every problem."""
    paths, problems, seen = [], [], set()
    for raw in raws:
        try:
            path = normalise_path(raw)
        except ValidationError as error:
            problems.extend(error.messages)
            continue
        if path in seen:
            problems.append(_("%(path)s: the path appears twice.") % {"path": path})
        seen.add(path)
        paths.append(path)
    if problems:
        raise ValidationError(problems)
    return paths


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def parent(path: str) -> str:
    return path.rpartition("/")[0]


def breadcrumbs(path: str) -> list[tuple[str, str]]:
    """(name, path) of each folder from the root's first child down to `path`."""
    if not path:
        return []
    return [(folder.rsplit("/", 1)[-1], folder) for folder in [*ancestors(path), path]]


def content_type_of(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
