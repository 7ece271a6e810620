"""Parameters and tags a run's code logged through MLflow's calls, read while it goes.

The run's tracking endpoint (tracking.py) appends them as JSON lines to a file of the
workspace, `{"kind": "param", "key": "lr", "value": "0.1"}`; a later line of the same key
wins. The file is the run's untrusted output like its metrics file: opened only as a regular
file, never through a link, and read up to MAX_BYTES; a bad line is skipped and counted.
"""

import json
import logging
import os
from pathlib import Path

from django.db import DatabaseError, connection
from django.utils.translation import gettext_noop

from aicenter.wording import say
from pipelines.models import Run
from pipelines.runner.logs import RunLog
from pipelines.runner.metrics import CONTROL_CHARACTER, encodable
from pipelines.runner.nofollow import GONE, Refused, open_regular_file

MAX_BYTES = 1024 * 1024
MAX_ENTRIES = 1000  # of each kind
MAX_KEY = 250
MAX_VALUE = 8000
KINDS = {"param": 0, "tag": 1}
NOT_READ = gettext_noop("The logged parameters were not read: %(why)s.")
ONLY_THE_FIRST = gettext_noop("Only the first %(size)s MB of logged parameters were read.")
SKIPPED = gettext_noop(
    "%(count)s logged parameters or tags were skipped: each must be a key of at most "
    "%(key)s characters and a value of at most %(value)s, %(entries)s of each kind."
)
logger = logging.getLogger(__name__)


class LoggedFile:
    """Keeps what the file holds on the run: read again each tick the file has grown, so the
    run's page shows the parameters while it goes, and once more when it ended."""

    def __init__(self, run: Run, path: Path, log: RunLog) -> None:
        self.run, self.path, self.log = run, path, log
        self.size = 0
        self.stored = (run.logged_parameters, run.tags)

    def tick(self) -> None:
        """Quiet: what was skipped is said once, at the end."""
        try:
            size = os.lstat(self.path).st_size
        except OSError:
            return
        if size != self.size and self._keep(read_logged(self.path, None)):
            self.size = size

    def finish(self) -> None:
        self._keep(read_logged(self.path, self.log))

    def _keep(self, found: tuple[dict[str, str], dict[str, str]]) -> bool:
        """False when the database failed: the next tick, or the end, stores them again."""
        if found == self.stored:
            return True
        try:
            self.run.record_logged(*found)
        except DatabaseError:
            logger.exception("Run %s: storing its logged parameters failed", self.run.id)
            connection.close()
            return False
        self.stored = found
        return True


def read_logged(path: Path, log: RunLog | None) -> tuple[dict[str, str], dict[str, str]]:
    """(parameters, tags) from the file at the absolute, resolved `path`; ({}, {}) when the
    code logged none. What was not taken is said in the run's log, if given."""
    tell = log.system if log else lambda line: None
    try:
        with open_regular_file(path) as file:
            content = file.read(MAX_BYTES + 1)
    except Refused as refusal:
        if refusal.why != GONE:  # else nothing was logged
            tell(say(NOT_READ, why=refusal.why))
        return {}, {}
    if len(content) > MAX_BYTES:
        tell(say(ONLY_THE_FIRST, size=MAX_BYTES // 1024 // 1024))
        content = content[: content.rfind(b"\n", 0, MAX_BYTES) + 1]
    found, skipped = parsed(content.splitlines())
    if skipped:
        tell(say(SKIPPED, count=skipped, key=MAX_KEY, value=MAX_VALUE, entries=MAX_ENTRIES))
    return found


def parsed(lines: list[bytes]) -> tuple[tuple[dict[str, str], dict[str, str]], int]:
    """(parameters, tags) and how many lines were skipped."""
    kept: tuple[dict[str, str], dict[str, str]] = ({}, {})
    skipped = 0
    for line in lines:
        entry = entry_of(line)
        if entry is None:
            skipped += bool(line.strip())
            continue
        kind, key, value = entry
        if key not in kept[kind] and len(kept[kind]) >= MAX_ENTRIES:
            skipped += 1
            continue
        kept[kind][key] = value
    return kept, skipped


def entry_of(line: bytes) -> tuple[int, str, str] | None:
    """(kind, key, value) of a good line; None for any other."""
    try:
        found = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(found, dict) or found.get("kind") not in KINDS:
        return None
    key, value = found.get("key"), found.get("value")
    if not (isinstance(key, str) and isinstance(value, str)):
        return None
    if not key.strip() or len(key) > MAX_KEY or CONTROL_CHARACTER.search(key):
        return None
    if len(value) > MAX_VALUE or "\x00" in value or not encodable(key + value):
        return None  # PostgreSQL's JSON holds no NUL character
    return KINDS[found["kind"]], key, value
