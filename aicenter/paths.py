"""The rules every stored path keeps, in datasets and packages alike.

A path is relative, uses / between names, holds no NUL or control character, is
in Unicode NFC, and fits the name and path lengths of common filesystems, so a
worker can always write it where a run needs it.
"""

import re

from django.utils.translation import gettext as _

MAX_PATH_BYTES = 1024
MAX_SEGMENT_BYTES = 255
CONTROL = re.compile(r"[\x01-\x1f\x7f]")
DRIVE = re.compile(r"^[A-Za-z]:")


def character_problem(raw: str) -> str | None:
    if not raw:
        return _("A path cannot be empty.")
    if "\0" in raw:
        return _("a path cannot contain a NUL character.")
    if CONTROL.search(raw):
        return _("a path cannot contain control characters.")
    if "\\" in raw:
        return _("use / between folders; a path cannot contain a backslash.")
    if raw.startswith("/") or DRIVE.match(raw):
        return _("the path is absolute; give it relative to the root.")
    return None


def shape_problem(path: str) -> str | None:
    if len(path.encode()) > MAX_PATH_BYTES:
        return _("the path is longer than %(limit)s bytes.") % {"limit": f"{MAX_PATH_BYTES:,}"}
    for segment in path.split("/"):
        if not segment:
            return _("the path has an empty segment (// or a trailing /).")
        if segment in {".", ".."}:
            return _("'%(name)s' is not allowed in a path.") % {"name": segment}
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            return _("the name %(name)s… is longer than %(limit)s bytes.") % {
                "name": segment[:40],
                "limit": MAX_SEGMENT_BYTES,
            }
    return None


def ancestors(path: str) -> list[str]:
    """The folders above `path`, outermost first, without the root."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: index + 1]) for index in range(len(parts))]
