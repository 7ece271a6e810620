"""Safety checks for uploaded zips, shared by packages and datasets.

Every problem is collected, so a person can fix them all at once.
"""

import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.utils.translation import gettext as _

from aicenter.paths import ancestors, character_problem, shape_problem

# What reading a member raises when its content does not match its header.
# An encrypted member raises RuntimeError (a password is required).
UNREADABLE = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, RuntimeError)
READ_CHUNK = 1 << 20

# A member that inflates more than this many times is treated as a zip bomb.
SUSPICIOUS_RATIO = 100
# Small members may compress well without being a threat.
RATIO_FLOOR_BYTES = 1024 * 1024
# Many small members add up: the whole archive is held to a ratio too. Ordinary CSVs and
# text compress 5-20×, and below this total nothing large can come out of it anyway.
SUSPICIOUS_ARCHIVE_RATIO = 200
ARCHIVE_RATIO_FLOOR_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int
    max_uncompressed_bytes: int
    max_ratio: int = SUSPICIOUS_RATIO
    max_archive_ratio: int = SUSPICIOUS_ARCHIVE_RATIO


def open_zip(path) -> tuple[zipfile.ZipFile | None, list[str]]:
    """The open zip, or None and the reason it cannot be read."""
    try:
        return zipfile.ZipFile(path), []
    except (zipfile.BadZipFile, OSError):
        return None, [_("The file is not a zip archive.")]


def archive_problems(archive: zipfile.ZipFile, limits: ArchiveLimits) -> list[str]:
    members = archive.infolist()
    problems = []
    if len(members) > limits.max_entries:
        problems.append(
            _("The zip has %(count)s entries; at most %(limit)s are allowed.")
            % {"count": len(members), "limit": limits.max_entries}
        )
    problems += size_problems(members, limits)
    seen = set()
    for member in members:
        problems.extend(member_problems(member, limits))
        name = member.filename.rstrip("/")
        if name in seen:
            problems.append(_("%(name)s: the name appears twice.") % {"name": member.filename})
        seen.add(name)
    return problems


def size_problems(members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> list[str]:
    """The archive's declared total against the limit, and against what it was packed into."""
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        return [
            _("The zip unpacks to %(size)s bytes; at most %(limit)s are allowed.")
            % {"size": f"{total:,}", "limit": f"{limits.max_uncompressed_bytes:,}"}
        ]
    packed = max(sum(member.compress_size for member in members), 1)
    if total > ARCHIVE_RATIO_FLOOR_BYTES and total / packed > limits.max_archive_ratio:
        return [
            _(
                "The zip unpacks to %(size)s bytes from %(packed)s: it inflates %(ratio)s× "
                "(more than %(limit)s×), which looks like a zip bomb."
            )
            % {
                "size": f"{total:,}",
                "packed": f"{packed:,}",
                "ratio": total // packed,
                "limit": limits.max_archive_ratio,
            }
        ]
    return []


def member_problems(member: zipfile.ZipInfo, limits: ArchiveLimits) -> list[str]:
    name = member.filename
    problems = [named(name, problem) for problem in path_problems(name)]
    if member.flag_bits & 0x1:
        problems.append(_("%(name)s: the entry is encrypted.") % {"name": name})
    if stat.S_ISLNK(member.external_attr >> 16):
        problems.append(_("%(name)s: symbolic links are not allowed.") % {"name": name})
    compressed = max(member.compress_size, 1)
    if member.file_size > RATIO_FLOOR_BYTES and member.file_size / compressed > limits.max_ratio:
        problems.append(
            _(
                "%(name)s: it inflates %(ratio)s× (more than %(limit)s×), "
                "which looks like a zip bomb."
            )
            % {"name": name, "ratio": member.file_size // compressed, "limit": limits.max_ratio}
        )
    return problems


def path_problems(name: str) -> list[str]:
    """What makes a member's name unsafe to extract."""
    if "\x00" in name:
        return [_("the name contains a NUL character.")]
    if name.startswith(("/", "\\")):
        return [_("the path is absolute.")]
    if len(name) > 1 and name[1] == ":":
        return [_("the path starts with a drive letter.")]
    if "\\" in name:
        return [_("the path uses backslashes.")]
    if ".." in PurePosixPath(name).parts:
        return [_("the path leaves the archive's folder (..).")]
    return []


def layout_problems(archive: zipfile.ZipFile) -> list[str]:
    """Names a worker could not write as they are: the rules of every stored path, and no
    name that is both a file and a folder. Unsafe names are archive_problems' to report."""
    problems, files, folders = [], set(), set()
    for member in archive.infolist():
        if path_problems(member.filename):
            continue
        name = member.filename.removesuffix("/")
        problem = character_problem(name) or shape_problem(name) or nfc_problem(name)
        if problem:
            problems.append(named(shortened(name), problem))
            continue
        (folders if member.is_dir() else files).add(name)
        folders.update(ancestors(name))
    clashes = sorted(files & folders)
    both = _("%(name)s: the name is both a file and a folder.")
    return problems + [both % {"name": name} for name in clashes]


def nfc_problem(name: str) -> str | None:
    if unicodedata.normalize("NFC", name) != name:
        return _("the name is not in Unicode normal form C (NFC).")
    return None


def named(name: str, problem: str) -> str:
    """A problem of one name, "name: problem", in the reader's order of the two."""
    return _("%(name)s: %(problem)s") % {"name": name, "problem": problem}


def shortened(name: str, keep: int = 80) -> str:
    return name if len(name) <= keep else f"{name[:keep]}…"


def unreadable_member(member: zipfile.ZipInfo) -> str:
    return _("%(name)s: the entry is damaged or cannot be read.") % {"name": member.filename}


def member_chunks(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes, counted: one byte past the size its header declares stops it.

    Every limit is checked on the declared sizes, so these counts are what keep them.
    """
    left = member.file_size
    with archive.open(member) as source:
        while chunk := source.read(min(READ_CHUNK, left + 1)):
            left -= len(chunk)
            if left < 0:
                raise zipfile.BadZipFile(f"{member.filename}: more bytes than its header says")
            yield chunk


def damaged_members(archive: zipfile.ZipFile) -> list[str]:
    """Members whose content does not read back as their header says (size, CRC, method).

    Only for an archive that passed archive_problems: this inflates every member.
    """
    problems = []
    for member in archive.infolist():
        if member.is_dir():
            continue
        try:
            for _ in member_chunks(archive, member):
                pass
        except UNREADABLE:
            problems.append(unreadable_member(member))
    return problems
