"""A run's output, stored line by line while it runs, capped in size."""

from django.conf import settings
from django.utils import timezone

from pipelines.models import LogLine, Run, Stream

MAX_LINE_CHARS = 10_000


class RunLog:
    def __init__(self, run: Run) -> None:
        self.run_id = run.id
        last = run.log_lines.order_by("-n").values_list("n", flat=True).first()
        self.next_n = (last or 0) + 1
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
        self.pending.append(
            LogLine(
                run_id=self.run_id,
                n=self.next_n,
                time=time or timezone.now(),
                stream=stream,
                text=text,
            )
        )
        self.next_n += 1
        self.size += len(text) + 1

    def system(self, text: str) -> None:
        self.add(Stream.SYSTEM, text)

    def flush(self) -> None:
        if not self.pending:
            return
        LogLine.objects.bulk_create(self.pending)
        self.pending = []
        Run.objects.filter(id=self.run_id).update(log_bytes=self.size)


def note(run: Run, text: str) -> None:
    """One line of the service's in a run's log, written from outside the run's worker."""
    log = RunLog(run)
    log.system(text)
    log.flush()
