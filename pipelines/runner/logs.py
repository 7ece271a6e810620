"""A run's output, stored line by line while it runs, capped in size and in lines."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from aicenter.wording import Said, english, kept, say
from pipelines.models import MAX_LINE_CHARS, LogLine, Run, Stream

# Rows per transaction when a log is written.
FLUSH_BATCH = 1000
TRUNCATED = gettext_noop("[log truncated: the run wrote more than %(cap)s]")


class RunLog:
    """Lines are numbered when they are written, under the run row's lock, so lines written
    meanwhile by others (the reaper, a transition's closing line) never take the same number."""

    def __init__(self, run: Run) -> None:
        self.run_id = run.id
        self.size = run.log_bytes
        self.count = run.last_line_number()
        self.truncated = False
        self.pending: list[LogLine] = []

    def add(self, stream: str, text: str | Said, time=None) -> None:
        """Keep a line; past the cap the run's output is dropped, the service's own lines not.
        A line the service said (a Said) is kept in English and worded for each reader."""
        if self.truncated and stream != Stream.SYSTEM:
            return
        said, text = kept(text), english(text)[:MAX_LINE_CHARS]
        exceeded = self.exceeded_cap(text) if stream != Stream.SYSTEM else None
        if exceeded:
            self.truncated = True
            marker = say(TRUNCATED, cap=exceeded)
            said, text, stream = marker.stored(), english(marker), Stream.SYSTEM
        line = LogLine(
            run_id=self.run_id, time=time or timezone.now(), stream=stream, text=text, said=said
        )
        self.pending.append(line)
        self.size += len(text) + 1
        self.count += 1

    def exceeded_cap(self, text: str) -> Said | None:
        """The cap the line would take the log past, said for the marker; None within both."""
        if self.size + len(text) + 1 > settings.RUN_LOG_MAX_BYTES:
            return say(gettext_noop("%(count)s bytes"), count=f"{settings.RUN_LOG_MAX_BYTES:,}")
        if self.count + 1 > settings.RUN_LOG_MAX_LINES:
            return say(gettext_noop("%(count)s lines"), count=f"{settings.RUN_LOG_MAX_LINES:,}")
        return None

    def system(self, text: str | Said) -> None:
        self.add(Stream.SYSTEM, text)

    def flush(self) -> None:
        """The pending lines, in short transactions of at most FLUSH_BATCH lines each: a flood
        must not hold SQLite's write lock (or the run row's) while the web waits on it."""
        while self.pending:
            batch = self.pending[:FLUSH_BATCH]
            self.write(batch)
            del self.pending[: len(batch)]

    def write(self, batch: list[LogLine]) -> None:
        added = sum(len(line.text) + 1 for line in batch)
        with transaction.atomic():
            # The update comes first: it takes the row's lock before the last number is read.
            Run.objects.filter(id=self.run_id).update(log_bytes=F("log_bytes") + added)
            first = Run(id=self.run_id).last_line_number() + 1
            for offset, line in enumerate(batch):
                line.n = first + offset
            LogLine.objects.bulk_create(batch)


def note(run: Run, text: str | Said) -> None:
    """One line of the service's in a run's log, written from outside the run's worker."""
    log = RunLog(run)
    log.system(text)
    log.flush()
