"""A run's metrics: JSON lines its code appends to the file named by `metrics_file`.

A line is one point, `{"name": "loss", "value": 0.31, "step": 3}`, or several at once,
`{"loss": 0.31, "accuracy": 0.9, "step": 3}`. `step` is optional: a metric's first point
without one is step 0, each later one the metric's previous step + 1. A value of NaN or
infinity (or null) is kept as a gap.

The file is the run's untrusted output, read while the run goes. Nothing in it may fail
the run or stall the worker: it is opened only as a regular file (never through a link,
never a FIFO or a device), a bounded number of bytes is read per tick, lines are capped
in length, a run keeps at most RUN_METRICS_MAX_POINTS points and 1,000 metric names, and a
bad line is skipped with a line in the run's log that gives its number.
"""

import json
import logging
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from aicenter.wording import Said, say
from pipelines.models import MAX_METRIC_NAME, Metric, MetricPoint
from pipelines.runner.charts import LiveCharts
from pipelines.runner.logs import RunLog
from pipelines.runner.nofollow import GONE, Refused, open_regular_file

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 64 * 1024
READ_PER_TICK = 512 * 1024
# At the end of the run, what is left of the file is read for this long at most.
FINISH_ATTEMPTS = 3  # database failures in a row before the end's reading gives up
FINISH_SECONDS = 30.0
MAX_NAMES = 1000
MAX_STEP = 2**62
REPORTED_BAD_LINES = 100
WRITE_BATCH = 1000
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")

# Why a line of the metrics file was skipped, and what the run's log says of the file.
BAD_STEP = gettext_noop("its step is not a whole number from 0 to %(most)s")
NAME_TOO_LONG = gettext_noop("its name is longer than %(most)s characters")
NOT_A_NUMBER = gettext_noop("the value of %(value)s is not a number")
LINE_TOO_LONG = gettext_noop("it is longer than %(size)s KB")
TOO_MANY_NAMES = gettext_noop("the run would have more than %(count)s metric names")
DATABASE_BUSY = gettext_noop("the database could not be used")
TOO_LONG = gettext_noop("it is too long")
NOT_READ_TO_END = gettext_noop("The metrics file was not read to its end: %(why)s.")
NOT_READ = gettext_noop("The metrics file was not read: %(why)s.")
SKIPPED_IN_ALL = gettext_noop("%(count)s lines of the metrics file were skipped in all.")
NOT_READ_ANY_MORE = gettext_noop("The metrics file is not read any more: %(error)s.")
DROPPED = gettext_noop("Metrics past %(cap)s points were dropped: the run reports too many.")
LINE_SKIPPED = gettext_noop("Metrics file line %(number)s skipped: %(why)s.")
COUNTED_NOT_SHOWN = gettext_noop("Further bad lines of the metrics file are counted, not shown.")


class BadLine(ValueError):
    """A line that holds no valid point; the message says why, for the run's log."""


@dataclass(frozen=True)
class Point:
    name: str
    step: int
    value: float | None


def parse(line: bytes, next_steps: dict[str, int]) -> list[Point]:
    """The points of one line, each without a step of its own at its metric's next step."""
    values, step = entries(read_object(line))
    for name in values:
        if name not in next_steps:  # a name seen before was checked then
            check_name(name)
    return [
        Point(name, next_steps.get(name, 0) if step is None else step, value_of(value))
        for name, value in values.items()
    ]


def advance(next_steps: dict[str, int], points: list[Point]) -> None:
    for point in points:
        next_steps[point.name] = point.step + 1


def read_object(line: bytes) -> dict:
    try:
        found = json.loads(line)
    except (ValueError, RecursionError):
        raise BadLine(say(gettext_noop("it is not JSON"))) from None
    if not isinstance(found, dict):
        raise BadLine(say(gettext_noop("it is not a JSON object")))
    return found


def entries(found: dict) -> tuple[dict, int | None]:
    """{name: raw value} and the line's step (None: automatic), checked."""
    step = found.get("step")
    if step is not None and (type(step) is not int or not 0 <= step <= MAX_STEP):
        raise BadLine(say(BAD_STEP, most=MAX_STEP))
    if "name" in found:
        if "value" not in found:
            raise BadLine(say(gettext_noop("it has a name but no value")))
        if not isinstance(found["name"], str):
            raise BadLine(say(gettext_noop("its name is not text")))
        values = {found["name"]: found["value"]}
    elif "value" in found:
        raise BadLine(say(gettext_noop("it has a value but no name")))
    else:
        values = {name: value for name, value in found.items() if name != "step"}
        if not values:
            raise BadLine(say(gettext_noop("it has no name")))
    return values, step


def check_name(name: str) -> None:
    if not name.strip():
        raise BadLine(say(gettext_noop("its name is not text")))
    if len(name) > MAX_METRIC_NAME:
        raise BadLine(say(NAME_TOO_LONG, most=MAX_METRIC_NAME))
    if CONTROL_CHARACTER.search(name):
        raise BadLine(say(gettext_noop("its name holds a control character")))
    if not encodable(name):
        raise BadLine(say(gettext_noop("its name is not text")))


def encodable(text: str) -> bool:
    """False for text JSON can carry but no database can store: a lone surrogate."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def value_of(value) -> float | None:
    """A finite number, or None for a gap (NaN, infinity, null)."""
    if value is None:
        return None
    if type(value) not in {int, float}:
        raise BadLine(say(NOT_A_NUMBER, value=f"{value!r:.40}"))
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class MetricsFile:
    """The complete lines appended to the file since the last read, numbered from 1.

    The file is opened once, when it is first found as a regular file, and read from that
    descriptor only. A line longer than MAX_LINE_BYTES is given as None, without its bytes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refused: Said | None = None
        self.at_end = False
        self._file: BinaryIO | None = None
        self._partial = b""
        self._overlong = False
        self._number = 0

    def read_lines(self, limit: int) -> list[tuple[int, bytes | None]]:
        if not self._opened():
            self.at_end = True
            return []
        chunk = self._file.read(limit)
        self.at_end = len(chunk) < limit
        data, lines, start = self._partial + chunk, [], 0
        while (end := data.find(b"\n", start)) != -1:
            lines.append(self._complete(data[start:end]))
            start = end + 1
        self._partial = data[start:]
        if self._overlong or len(self._partial) > MAX_LINE_BYTES:
            self._overlong, self._partial = True, b""
        return lines

    def last_line(self) -> list[tuple[int, bytes | None]]:
        """A last line the run left without its newline; read once the run has ended."""
        if not (self._partial or self._overlong):
            return []
        line = self._complete(self._partial)
        self._partial = b""
        return [line]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def _complete(self, line: bytes) -> tuple[int, bytes | None]:
        self._number += 1
        overlong, self._overlong = self._overlong or len(line) > MAX_LINE_BYTES, False
        return self._number, None if overlong else line

    def _opened(self) -> bool:
        if self._file is None and self.refused is None:
            try:
                self._file = open_regular_file(self.path)
            except Refused as refusal:
                if refusal.why != GONE:  # not written yet, or removed: looked for again
                    self.refused = refusal.why
        return self._file is not None


class RunMetrics:
    """Reads a run's metrics file once a tick and stores its points in bulk."""

    def __init__(self, run_id: int, path: Path, log: RunLog) -> None:
        self.run_id = run_id
        self.file = MetricsFile(path)
        self.log = log
        self.next_steps: dict[str, int] = {}
        self.pending: list[tuple] = []  # rows of INSERT_POINTS
        self.series: dict[str, Metric] = {}
        self.changed: set[str] = set()  # metrics whose summary is not stored yet
        self.charts = LiveCharts(run_id)
        self.kept = 0
        self.bad_lines = 0
        self.stopped = False  # the cap was reached, or the file cannot be read

    def tick(self) -> bool:
        """Points written since the last tick, READ_PER_TICK bytes at most; never raises.
        False when the database failed (the next tick tries again)."""
        return self._safely(lambda: self._read(self.file.read_lines(READ_PER_TICK)))

    def finish(self) -> None:
        """What the ended run left in the file, for FINISH_SECONDS at most."""
        deadline, failures = time.monotonic() + FINISH_SECONDS, 0
        self.file.at_end = False  # the last tick's end is not the file's: the run wrote on
        while (
            not (self.stopped or self.file.at_end)
            and time.monotonic() < deadline
            and failures < FINISH_ATTEMPTS
        ):
            if self.tick():
                failures = 0
            else:  # a busy database (SQLite's lock under load) often answers a moment later
                failures += 1
                time.sleep(failures)
        if not (self.stopped or self.file.at_end):
            busy = failures >= FINISH_ATTEMPTS
            why = DATABASE_BUSY if busy else TOO_LONG
            self.log.system(say(NOT_READ_TO_END, why=say(why)))
        self._safely(lambda: self._read(self.file.last_line()))
        if self.file.refused:
            self.log.system(say(NOT_READ, why=self.file.refused))
        if self.bad_lines > REPORTED_BAD_LINES:
            self.log.system(say(SKIPPED_IN_ALL, count=f"{self.bad_lines:,}"))
        self.file.close()
        if self.series:
            self._keep_charts()

    def _keep_charts(self) -> None:
        """Each metric reduced for its charts, so that the ended run's Metrics tab reads none
        of its points; where that fails, the tab's first view does it instead."""
        try:
            self.charts.finish()
        except DatabaseError:
            connection.close()
        except Exception:
            logger.exception("Run %s: reducing its metrics for their charts failed", self.run_id)

    def _safely(self, read) -> bool:
        try:
            self._write()
            if not (self.pending or self.stopped):  # nothing is read while the database is busy
                read()
                self._write()
            self.charts.refresh()
        except DatabaseError:
            connection.close()  # reopened by the next tick
            return False
        except Exception as error:
            logger.exception("Run %s: reading its metrics failed", self.run_id)
            self.log.system(say(NOT_READ_ANY_MORE, error=str(error)))
            self.stopped = True
        return True

    def _read(self, lines: list[tuple[int, bytes | None]]) -> None:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        for number, line in lines:
            if line is not None and not line.strip():
                continue
            try:
                points = self._points(line)
            except BadLine as bad:
                self._skip(number, bad.args[0])
                continue
            if not self._keep(points, now):
                return

    def _points(self, line: bytes | None) -> list[Point]:
        if line is None:
            raise BadLine(say(LINE_TOO_LONG, size=MAX_LINE_BYTES // 1024))
        points = parse(line, self.next_steps)
        new_names = {point.name for point in points} - self.next_steps.keys()
        if len(self.next_steps) + len(new_names) > MAX_NAMES:
            raise BadLine(say(TOO_MANY_NAMES, count=f"{MAX_NAMES:,}"))
        advance(self.next_steps, points)
        return points

    def _keep(self, points: list[Point], now) -> bool:
        """False once the cap is reached: what follows is dropped, and said so once."""
        cap = settings.RUN_METRICS_MAX_POINTS
        if self.kept + len(points) > cap:
            self.log.system(say(DROPPED, cap=f"{cap:,}"))
            self.stopped = True
            return False
        self.kept += len(points)
        self.pending += [(self.run_id, p.name, p.step, p.value, now) for p in points]
        for point in points:
            metric = self.series.get(point.name) or Metric(run_id=self.run_id, name=point.name)
            metric.add(point.step, point.value)
            self.series[point.name] = metric
            self.charts.added(point.name, point.step)
            self.changed.add(point.name)
        return True

    def _skip(self, number: int, why: Said) -> None:
        self.bad_lines += 1
        if self.bad_lines <= REPORTED_BAD_LINES:
            self.log.system(say(LINE_SKIPPED, number=number, why=why))
        if self.bad_lines == REPORTED_BAD_LINES:
            self.log.system(say(COUNTED_NOT_SHOWN))

    def _write(self) -> None:
        """The pending points, WRITE_BATCH in a transaction. Plain rows, not models: building
        a model and compiling its INSERT cost more than parsing a line and storing it."""
        while self.pending:
            batch = self.pending[:WRITE_BATCH]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(insert_points(), batch)
            del self.pending[: len(batch)]
        if self.changed:
            Metric.objects.bulk_create(
                [self.series[name].copy() for name in self.changed],
                update_conflicts=True,
                unique_fields=["run", "name"],
                update_fields=Metric.SUMMED,
            )
            self.changed.clear()


def insert_points() -> str:
    quote, table = connection.ops.quote_name, MetricPoint._meta.db_table
    columns = ", ".join(quote(column) for column in ["run_id", "name", "step", "value", "time"])
    return f"INSERT INTO {quote(table)} ({columns}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608  # nosec B608 - our own table and column names
