"""Looking at processes from a test."""

from collections.abc import Iterator
from pathlib import Path


def _processes() -> Iterator[tuple[int, str, int, int]]:
    """(pid, state, parent, group) of every process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        yield int(stat.parent.name), fields[0], int(fields[1]), int(fields[2])


def live_members(group: int) -> list[int]:
    """Processes of the group that still run (zombies waiting for their parent do not)."""
    return [pid for pid, state, _, pgid in _processes() if pgid == group and state != "Z"]


def children(parent: int) -> list[int]:
    return [pid for pid, state, ppid, _ in _processes() if ppid == parent and state != "Z"]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
