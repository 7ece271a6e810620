import re

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone

from aicenter.models import EventKind, Project, record_event
from aicenter.templatetags.aicenter import interval_text
from packages.contract import PipelineType
from packages.models import PackageVersion

DEFAULT_PARAMETERS = {"artifacts_directory": "artifacts", "save_training_data": "false"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScheduleKind(models.TextChoices):
    NOW = "now", "Now"
    ONCE = "once", "Once, later"
    RECURRING = "recurring", "Recurring"


class Overlap(models.TextChoices):
    SKIP = "skip", "Skip the fire"
    QUEUE = "queue", "Queue another run"


class DataChoice(models.Model):
    """The dataset folders a pipeline reads; a run keeps its own copy of the choice."""

    input_dataset = models.ForeignKey(
        "datasets.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    input_path = models.CharField(max_length=1024, blank=True)
    evaluation_dataset = models.ForeignKey(
        "datasets.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evaluation_path = models.CharField(max_length=1024, blank=True)

    class Meta:
        abstract = True


class PipelineQuerySet(models.QuerySet):
    def with_latest_run(self) -> "PipelineQuerySet":
        """Each pipeline with its newest run and what its row shows, in one query."""
        return self.select_related(
            "package_version__package",
            "schedule",
            "latest_run__package_version__package",
            "latest_run__produced_version",
        )


class Pipeline(DataChoice):
    """A definition: what to run on which data, with which parameters, and when."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pipelines")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=12, choices=PipelineType.choices)
    package_version = models.ForeignKey(
        PackageVersion, on_delete=models.CASCADE, related_name="pipelines"
    )
    parameters = models.JSONField(default=dict)
    gpu = models.BooleanField(default=False)
    network = models.BooleanField(
        default=False, help_text="Whether its runs may reach the internet (off: loopback only)."
    )
    timeout = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; empty uses the service's RUN_TIMEOUT."
    )
    schedule_kind = models.CharField(
        max_length=10, choices=ScheduleKind.choices, default=ScheduleKind.NOW
    )
    run_at = models.DateTimeField(null=True, blank=True)
    cron = models.CharField(max_length=100, blank=True)
    interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    on_overlap = models.CharField(
        max_length=5,
        choices=Overlap.choices,
        default=Overlap.SKIP,
        help_text="What a fire does while the previous run of the pipeline is still going.",
    )
    schedule = models.OneToOneField(
        "django_q.Schedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept by start.queue_run, so lists read it instead of searching every pipeline's runs.
    latest_run = models.ForeignKey(
        "Run", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PipelineQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pipelines:pipeline", args=[self.project_id, self.id])

    @property
    def schedule_summary(self) -> str:
        if self.schedule_kind == ScheduleKind.ONCE:
            return f"once at {self.run_at:%Y-%m-%d %H:%M} UTC"
        if self.schedule_kind == ScheduleKind.NOW:
            return "run by hand"
        summary = (
            f"cron {self.cron}" if self.cron else f"every {interval_text(self.interval_minutes)}"
        )
        if self.starts_at:
            summary += f" from {self.starts_at:%Y-%m-%d %H:%M}"
        if self.ends_at:
            summary += f" until {self.ends_at:%Y-%m-%d %H:%M}"
        return summary + " UTC" if self.starts_at or self.ends_at else summary

    @property
    def next_fire(self):
        """When the schedule fires next, or None when it will not fire again."""
        schedule = self.schedule
        if schedule is None or schedule.repeats == 0:
            return None
        if self.ends_at and schedule.next_run > self.ends_at:
            return None
        return schedule.next_run

    @property
    def all_parameters(self) -> dict[str, str]:
        return {**DEFAULT_PARAMETERS, **self.parameters}

    @property
    def time_limit(self) -> int:
        return self.timeout or settings.RUN_TIMEOUT


class Status(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PACKAGING = "packaging", "Packaging"
    RUNNING = "running", "Running"
    SUCCESSFUL = "successful", "Successful"
    FAILED = "failed", "Failed"
    KILLED = "killed", "Killed"


ACTIVE = [Status.SCHEDULED, Status.PACKAGING, Status.RUNNING]
STARTED = [Status.PACKAGING, Status.RUNNING]
EVENT_OF_STATUS = {
    Status.RUNNING: EventKind.RUN_STARTED,
    Status.SUCCESSFUL: EventKind.RUN_SUCCESSFUL,
    Status.FAILED: EventKind.RUN_FAILED,
    Status.KILLED: EventKind.RUN_KILLED,
}


MAX_LINE_CHARS = 10_000


def first_line(text: str, otherwise: str = "") -> str:
    """The first line of a message, for a log line or an event; `otherwise` when it is blank."""
    line = text.splitlines()[0].strip() if text.strip() else ""
    return line[:MAX_LINE_CHARS] or otherwise


class RunQuerySet(models.QuerySet):
    def active(self) -> "RunQuerySet":
        return self.filter(status__in=ACTIVE)

    def for_project(self, project) -> "RunQuerySet":
        return self.filter(project=project)


class Run(DataChoice):
    """One execution of a pipeline. It keeps what it ran even if the pipeline is removed."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    pipeline = models.ForeignKey(
        Pipeline, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    pipeline_name = models.CharField(max_length=100)
    type = models.CharField(max_length=12, choices=PipelineType.choices)
    package_version = models.ForeignKey(
        PackageVersion, on_delete=models.CASCADE, related_name="runs"
    )
    parameters = models.JSONField(default=dict, help_text="Every parameter, defaults included.")
    gpu = models.BooleanField(default=False)
    network = models.BooleanField(default=False)
    time_limit = models.PositiveIntegerField(help_text="Seconds the run may take.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(
        default=timezone.now, help_text="When its task last went to the broker."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    process_group = models.IntegerField(null=True, blank=True)
    kill_requested = models.BooleanField(default=False)
    score = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    waiting_reason = models.CharField(max_length=200, blank=True)
    produced_version = models.OneToOneField(
        PackageVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="made_by"
    )
    snapshot = models.ForeignKey(
        "datasets.Snapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    results = models.JSONField(null=True, blank=True)
    log_bytes = models.BigIntegerField(default=0)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # A run's page lists its pipeline's newest other runs: by the pipeline's index alone,
        # SQLite sorted all of them for each page (the page took 15 ms at 1,000 runs, 33 at
        # 100,000).
        indexes = [
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["pipeline", "-created_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"Run {self.id} of {self.pipeline_name}"

    def get_absolute_url(self) -> str:
        return reverse("pipelines:run", args=[self.project_id, self.id])

    # The transitions: each moves the run only from the statuses it allows, in one guarded
    # update, and says whether it moved. Only the move that changed the row writes the
    # closing line and the event, in the same transaction, so a run never reads as ended
    # without its last line and a move that lost leaves no trace.

    def claim(self, worker: str) -> bool:
        """Scheduled -> running on `worker`; a second delivery of the same task claims nothing."""
        now = timezone.now()
        return self._move(
            Status.RUNNING,
            [Status.SCHEDULED],
            guard={"kill_requested": False},
            event=f"on {worker}",
            started_at=now,
            heartbeat_at=now,
            worker=worker,
            waiting_reason="",
        )

    def mark_packaging(self) -> bool:
        """Running -> packaging while the package's environment is built the first time."""
        return self._move(Status.PACKAGING, [Status.RUNNING])

    def resume(self) -> bool:
        """Packaging -> running once the environment is there."""
        return self._move(Status.RUNNING, [Status.PACKAGING])

    def succeed(self, closing: str, event: str = "", **outputs) -> bool:
        """Running -> successful with what it published, unless a kill was asked for first."""
        return self._end(
            Status.SUCCESSFUL,
            [Status.RUNNING],
            closing=closing,
            event=event,
            guard={"kill_requested": False},
            **outputs,
        )

    def fail(self, error: str) -> bool:
        closing = first_line(error, otherwise="The run failed.")
        return self._end(Status.FAILED, STARTED, closing=closing, event=error, error=error)

    def kill(self, error: str = "Killed on request.") -> bool:
        """A started run that its runner stopped on request."""
        closing = first_line(error, otherwise="Killed on request.")
        return self._end(Status.KILLED, STARTED, closing=closing, event=error, error=error)

    def lose(self, error: str, silent_since) -> bool:
        """Fail a started run whose worker sent no heartbeat since `silent_since`."""
        return self._end(
            Status.FAILED,
            STARTED,
            closing=first_line(error, otherwise="Worker lost."),
            event=error,
            guard={"heartbeat_at__lt": silent_since},
            error=error,
        )

    def request_kill(self) -> None:
        """A scheduled run ends at once and never starts; a started one is stopped by its runner."""
        error = "Killed before it started."
        killed = self._end(
            Status.KILLED,
            [Status.SCHEDULED],
            closing=error,
            event=error,
            error=error,
            kill_requested=True,
        )
        if not killed:
            Run.objects.filter(id=self.id, status__in=STARTED).update(kill_requested=True)
        self.kill_requested = True

    def _end(self, status: str, allowed: list, **changes) -> bool:
        now = timezone.now()
        return self._move(status, allowed, **{"ended_at": now, "heartbeat_at": now, **changes})

    def _move(
        self, status: str, allowed: list, guard=None, closing="", event=None, **fields
    ) -> bool:
        """The one guarded write of a status; `event` None records no activity event."""
        with transaction.atomic():
            counted = {"log_bytes": F("log_bytes") + len(closing) + 1} if closing else {}
            runs = Run.objects.filter(id=self.id, status__in=allowed, **(guard or {}))
            if runs.update(status=status, **fields, **counted) != 1:
                return False
            if closing:
                self.log_lines.create(
                    n=self.last_line_number() + 1,
                    time=timezone.now(),
                    stream=Stream.SYSTEM,
                    text=closing,
                )
            if event is not None:
                self.record_status(status, event)
        for name, value in {"status": status, **fields}.items():
            setattr(self, name, value)
        return True

    def last_line_number(self) -> int:
        return self.log_lines.aggregate(last=Max("n"))["last"] or 0

    def record_status(self, status: str, detail: str = "") -> None:
        """Tell the project's activity that this run started or ended."""
        word = "started" if status == Status.RUNNING else status
        message = f"{self.pipeline_name}: run #{self.id} {word}"
        if summary := first_line(detail):
            message += f": {summary}"
        link = self.get_absolute_url()
        record_event(self.project_id, EVENT_OF_STATUS[status], message, link=link)

    @property
    def saves_training_data(self) -> bool:
        return self.parameters.get("save_training_data", "false").lower() == "true"

    @property
    def is_finished(self) -> bool:
        return self.status not in ACTIVE

    @property
    def execution_time(self) -> float | None:
        if self.started_at and self.ended_at:
            return round((self.ended_at - self.started_at).total_seconds(), 1)
        return None


class Stream(models.TextChoices):
    STDOUT = "stdout", "stdout"
    STDERR = "stderr", "stderr"
    SYSTEM = "system", "system"


class LogLine(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="log_lines")
    n = models.PositiveIntegerField()
    time = models.DateTimeField()
    stream = models.CharField(max_length=6, choices=Stream.choices)
    text = models.TextField()

    class Meta:
        ordering = ["run", "n"]
        constraints = [models.UniqueConstraint(fields=["run", "n"], name="one_line_number_per_run")]

    def __str__(self) -> str:
        return f"{self.n} {self.stream}: {self.text[:60]}"


class Artifact(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    path = models.CharField(max_length=1024)
    size = models.BigIntegerField()

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["run", "path"], name="artifact_path_unique")]

    def __str__(self) -> str:
        return self.path

    @property
    def key(self) -> str:
        return f"runs/{self.run_id}/artifacts/{self.path}"
