"""A run's log: capped in bytes and in lines, written in short transactions, and read from
the run's process without piling its output up in the worker's memory."""

import sys
from collections import Counter
from time import monotonic, sleep

import pytest
from django.db import connection
from django.utils import timezone

from pipelines.models import LogLine, Run, Status, Stream
from pipelines.runner.execute import execute
from pipelines.runner.logs import FLUSH_BATCH, RunLog
from tests.pipelines.builders import run_of, snapshotting_pipeline


@pytest.fixture
def running(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"})
    Run.objects.filter(pipeline=pipeline).delete()
    return run_of(pipeline, Status.RUNNING, worker="here:1", heartbeat_at=timezone.now())


def texts(run: Run) -> list[str]:
    return list(run.log_lines.order_by("n").values_list("text", flat=True))


def test_a_flood_of_empty_lines_stops_at_the_line_cap_with_a_marker(running, settings):
    settings.RUN_LOG_MAX_LINES = 100
    log = RunLog(running)
    for _ in range(1000):
        log.add(Stream.STDOUT, "")
    log.system("Run successful.")
    log.flush()
    marker = "[log truncated: the run wrote more than 100 lines]"
    assert texts(running) == [""] * 100 + [marker, "Run successful."]


def test_the_line_cap_counts_the_lines_already_written(running, settings):
    settings.RUN_LOG_MAX_LINES = 100
    first = RunLog(running)
    for number in range(60):
        first.add(Stream.STDOUT, f"epoch {number}")
    first.flush()
    later = RunLog(Run.objects.get(id=running.id))
    for number in range(60, 120):
        later.add(Stream.STDERR, f"epoch {number}")
    later.flush()
    kept = texts(running)
    assert kept[:-1] == [f"epoch {number}" for number in range(100)]
    assert kept[-1] == "[log truncated: the run wrote more than 100 lines]"


def test_the_byte_cap_still_comes_first_when_it_is_reached_first(running, settings):
    settings.RUN_LOG_MAX_BYTES = 1024
    log = RunLog(running)
    for _ in range(10):
        log.add(Stream.STDOUT, "x" * 199)
    log.flush()
    assert texts(running)[-1] == "[log truncated: the run wrote more than 1,024 bytes]"


def rows_per_transaction(log: RunLog, monkeypatch) -> list[int]:
    """Log rows created in each transaction the flush opened (savepoints, inside a test's
    own transaction), counted as the rows handed to the database in one go."""
    rows: Counter = Counter()
    create = LogLine.objects.bulk_create

    def counting(lines, *args, **kwargs):
        rows[connection.savepoint_ids[-1]] += len(lines)
        return create(lines, *args, **kwargs)

    monkeypatch.setattr(LogLine.objects, "bulk_create", counting)
    log.flush()
    return list(rows.values())


def test_a_flood_is_written_in_short_transactions_numbered_in_order(running, monkeypatch):
    log = RunLog(running)
    lines = 2 * FLUSH_BATCH + 500
    for number in range(lines):
        log.add(Stream.STDOUT, str(number))
    assert rows_per_transaction(log, monkeypatch) == [FLUSH_BATCH, FLUSH_BATCH, 500]
    numbered = list(running.log_lines.order_by("n").values_list("n", "text"))
    assert numbered == [(number + 1, str(number)) for number in range(lines)]
    assert Run.objects.get(id=running.id).log_bytes == sum(len(str(n)) + 1 for n in range(lines))
    assert log.pending == []


class WatchedLog(RunLog):
    """A run's log that remembers the most lines it ever held unwritten."""

    most_pending = 0

    def add(self, stream: str, text: str, time=None) -> None:
        super().add(stream, text, time)
        self.most_pending = max(self.most_pending, len(self.pending))


def run_python(run: Run, code: str, log: RunLog, tmp_path, *arguments: str):
    command = [sys.executable, "-c", code, *arguments]
    return execute(run, command, tmp_path, {"PATH": "/usr/bin:/bin"}, 60, log, None)


@pytest.fixture
def as_worker(settings):
    settings.RUN_AS_USER = ""  # the code runs as the test itself, in its temporary folder


def test_a_flood_of_output_is_kept_whole_with_at_most_a_batch_held_unwritten(
    running, tmp_path, as_worker
):
    log = WatchedLog(running)
    outcome = run_python(running, "for n in range(20_000): print(n)", log, tmp_path)
    assert outcome.returncode == 0
    assert texts(running) == [str(number) for number in range(20_000)]
    assert log.most_pending <= FLUSH_BATCH


PRINTS_THEN_SAYS_SO = """\
import sys
for _ in range(3000):
    print("x" * 1000)
open(sys.argv[1], "w").close()
"""


class StallingLog(RunLog):
    """A log whose first line takes a second to write, like a database busy elsewhere."""

    printed_meanwhile = None

    def __init__(self, run: Run, printed) -> None:
        super().__init__(run)
        self.printed = printed

    def add(self, stream: str, text: str, time=None) -> None:
        if self.printed_meanwhile is None:
            stalled_until = monotonic() + 1.0
            while not self.printed.exists() and monotonic() < stalled_until:
                sleep(0.05)
            self.printed_meanwhile = self.printed.exists()
        super().add(stream, text, time)


def test_a_run_printing_faster_than_its_log_is_written_waits_for_it(running, tmp_path, as_worker):
    printed = tmp_path / "printed"
    log = StallingLog(running, printed)
    outcome = run_python(running, PRINTS_THEN_SAYS_SO, log, tmp_path, str(printed))
    assert outcome.returncode == 0
    assert log.printed_meanwhile is False, "3 MB of output were read ahead of the log"
    assert texts(running) == ["x" * 1000] * 3000
