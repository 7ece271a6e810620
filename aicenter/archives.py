"""Safety checks for uploaded zips, shared by packages and datasets.

Every problem is collected, so a person can fix them all at once.
"""

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

# What reading a member raises when its content does not match its header.
UNREADABLE = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError)
READ_CHUNK = 1 << 20

# A member that inflates more than this many times is treated as a zip bomb.
SUSPICIOUS_RATIO = 100
# Small members may compress well without being a threat.
RATIO_FLOOR_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int
    max_uncompressed_bytes: int
    max_ratio: int = SUSPICIOUS_RATIO


def open_zip(path) -> tuple[zipfile.ZipFile | None, list[str]]:
    """The open zip, or None and the reason it cannot be read."""
    try:
        return zipfile.ZipFile(path), []
    except (zipfile.BadZipFile, OSError):
        return None, ["The file is not a zip archive."]


def archive_problems(archive: zipfile.ZipFile, limits: ArchiveLimits) -> list[str]:
    members = archive.infolist()
    problems = []
    if len(members) > limits.max_entries:
        problems.append(
            f"The zip has {len(members)} entries; at most {limits.max_entries} are allowed."
        )
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        problems.append(
            f"The zip unpacks to {total:,} bytes; at most "
            f"{limits.max_uncompressed_bytes:,} are allowed."
        )
    seen = set()
    for member in members:
        problems.extend(member_problems(member, limits))
        name = member.filename.rstrip("/")
        if name in seen:
            problems.append(f"{member.filename}: the name appears twice.")
        seen.add(name)
    return problems


def member_problems(member: zipfile.ZipInfo, limits: ArchiveLimits) -> list[str]:
    name = member.filename
    problems = [f"{name}: {problem}" for problem in path_problems(name)]
    if member.flag_bits & 0x1:
        problems.append(f"{name}: the entry is encrypted.")
    if stat.S_ISLNK(member.external_attr >> 16):
        problems.append(f"{name}: symbolic links are not allowed.")
    compressed = max(member.compress_size, 1)
    if member.file_size > RATIO_FLOOR_BYTES and member.file_size / compressed > limits.max_ratio:
        problems.append(
            f"{name}: it inflates {member.file_size // compressed}× "
            f"(more than {limits.max_ratio}×), which looks like a zip bomb."
        )
    return problems


def path_problems(name: str) -> list[str]:
    """What makes a member's name unsafe to extract."""
    if "\x00" in name:
        return ["the name contains a NUL character."]
    if name.startswith(("/", "\\")):
        return ["the path is absolute."]
    if len(name) > 1 and name[1] == ":":
        return ["the path starts with a drive letter."]
    if "\\" in name:
        return ["the path uses backslashes."]
    if ".." in PurePosixPath(name).parts:
        return ["the path leaves the archive's folder (..)."]
    return []


def unreadable_member(member: zipfile.ZipInfo) -> str:
    return f"{member.filename}: the entry is damaged or cannot be read."


def damaged_members(archive: zipfile.ZipFile) -> list[str]:
    """Members whose content does not read back as their header says (size, CRC, method).

    Only for an archive that passed archive_problems: this inflates every member.
    """
    problems = []
    for member in archive.infolist():
        if member.is_dir():
            continue
        try:
            with archive.open(member) as source:
                while source.read(READ_CHUNK):
                    pass
        except UNREADABLE:
            problems.append(unreadable_member(member))
    return problems
