"""A run's output, stored line by line while it runs, capped in size."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pipelines.models import MAX_LINE_CHARS, LogLine, Run, Stream


class RunLog:
    """Lines are numbered when they are written, under the run row's lock, so lines written
    meanwhile by others (the reaper, a transition's closing line) never take the same number."""

    def __init__(self, run: Run) -> None:
        self.run_id = run.id
        self.size = run.log_bytes
        self.truncated = False
        self.pending: list[LogLine] = []

    def add(self, stream: str, text: str, time=None) -> None:
        """Keep a line; past the cap the run's output is dropped, the service's own lines not."""
        if self.truncated and stream != Stream.SYSTEM:
            return
        text = text[:MAX_LINE_CHARS]
        if stream != Stream.SYSTEM and self.size + len(text) + 1 > settings.RUN_LOG_MAX_BYTES:
            self.truncated = True
            limit = settings.RUN_LOG_MAX_BYTES
            text, stream = (
                f"[log truncated: the run wrote more than {limit:,} bytes]",
                Stream.SYSTEM,
            )
        line = LogLine(run_id=self.run_id, time=time or timezone.now(), stream=stream, text=text)
        self.pending.append(line)
        self.size += len(text) + 1

    def system(self, text: str) -> None:
        self.add(Stream.SYSTEM, text)

    def flush(self) -> None:
        if not self.pending:
            return
        added = sum(len(line.text) + 1 for line in self.pending)
        with transaction.atomic():
            # The update comes first: it takes the row's lock before the last number is read.
            Run.objects.filter(id=self.run_id).update(log_bytes=F("log_bytes") + added)
            first = Run(id=self.run_id).last_line_number() + 1
            for offset, line in enumerate(self.pending):
                line.n = first + offset
            LogLine.objects.bulk_create(self.pending)
        self.pending = []


def note(run: Run, text: str) -> None:
    """One line of the service's in a run's log, written from outside the run's worker."""
    log = RunLog(run)
    log.system(text)
    log.flush()
