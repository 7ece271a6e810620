import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from aicenter.models import EventKind, Project, record_event
from aicenter.templatetags.aicenter import in_largest_unit
from aicenter.wording import Said, counted, english, kept, say, shown, together
from packages.contract import PipelineType
from packages.models import PackageVersion
from pipelines.resources import (
    CORE,
    CORES,
    GB,
    GPUS,
    ONE_GPU,
    Resources,
    cores_text,
    gigabytes,
    gpus_text,
    memory_text,
)

DEFAULT_PARAMETERS = {"artifacts_directory": "artifacts", "save_training_data": "false"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScheduleKind(models.TextChoices):
    NOW = "now", _("Now")
    ONCE = "once", _("Once, later")
    RECURRING = "recurring", _("Recurring")


class Overlap(models.TextChoices):
    SKIP = "skip", _("Skip the fire")
    QUEUE = "queue", _("Queue another run")


EVERY = gettext_noop("every %(interval)s")
# A recurring schedule's window.
WINDOW = gettext_noop("%(summary)s from %(start)s until %(end)s UTC")
FROM = gettext_noop("%(summary)s from %(moment)s UTC")
UNTIL = gettext_noop("%(summary)s until %(moment)s UTC")
INTERVAL_UNITS = {
    "minutes": (gettext_noop("1 minute"), gettext_noop("%(count)s minutes")),
    "hours": (gettext_noop("1 hour"), gettext_noop("%(count)s hours")),
    "days": (gettext_noop("1 day"), gettext_noop("%(count)s days")),
    "weeks": (gettext_noop("1 week"), gettext_noop("%(count)s weeks")),
}


def minute(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def interval_said(minutes: int) -> Said:
    count, unit = in_largest_unit(minutes)
    return counted(count, *INTERVAL_UNITS[unit])


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
    # Empty: the service's default (RUN_CPUS, RUN_MEMORY_GB, RUN_DISK_GB, RUN_GPUS).
    cpus = models.PositiveSmallIntegerField(null=True, blank=True, help_text="CPU cores.")
    memory_gb = models.FloatField(null=True, blank=True, help_text="Memory, in GB.")
    disk_gb = models.FloatField(
        null=True, blank=True, help_text="What a run may write to its workspace, in GB."
    )
    gpus = models.PositiveSmallIntegerField(null=True, blank=True)
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
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="pipeline_name_unique_in_project"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pipelines:pipeline", args=[self.project_id, self.id])

    @property
    def schedule_summary(self) -> str:
        return str(self.schedule_said)

    @property
    def schedule_said(self) -> Said:
        """When it runs, said: "every 6 hours from 2026-01-01 00:00 UTC"."""
        if self.schedule_kind == ScheduleKind.ONCE:
            return say(gettext_noop("once at %(moment)s UTC"), moment=minute(self.run_at))
        if self.schedule_kind == ScheduleKind.NOW:
            return say(gettext_noop("run by hand"))
        summary = (
            say(gettext_noop("cron %(cron)s"), cron=self.cron)
            if self.cron
            else say(EVERY, interval=interval_said(self.interval_minutes))
        )
        start, end = minute(self.starts_at), minute(self.ends_at)
        if start and end:
            return say(WINDOW, summary=summary, start=start, end=end)
        if start or end:
            return say(FROM if start else UNTIL, summary=summary, moment=start or end)
        return summary

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

    @property
    def resources(self) -> Resources:
        return Resources.with_defaults(self.cpus, self.memory_gb, self.disk_gb, self.gpus)

    @property
    def gpu(self) -> bool:
        return self.resources.gpus > 0


class Status(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PACKAGING = "packaging", _("Packaging")
    RUNNING = "running", _("Running")
    SUCCESSFUL = "successful", _("Successful")
    FAILED = "failed", _("Failed")
    KILLED = "killed", _("Killed")


ACTIVE = [Status.SCHEDULED, Status.PACKAGING, Status.RUNNING]
STARTED = [Status.PACKAGING, Status.RUNNING]
EVENT_OF_STATUS = {
    Status.RUNNING: EventKind.RUN_STARTED,
    Status.SUCCESSFUL: EventKind.RUN_SUCCESSFUL,
    Status.FAILED: EventKind.RUN_FAILED,
    Status.KILLED: EventKind.RUN_KILLED,
}


MAX_LINE_CHARS = 10_000
MAX_METRIC_NAME = 200
# The reasons a worker gives when it hands a run back (Worker.take); kept in English in
# waiting_reason, whose beginning says which reason it is.
WAITING_FOR_ROOM = "Waiting for a worker with"
WAITING_BEHIND = "Waiting behind run #"
FOR_ROOM = gettext_noop("Waiting for a worker with %(lacking)s free.")
BEHIND = gettext_noop("Waiting behind run #%(run)s, which came first.")
# What the activity says when a run moves; the detail, when there is one, follows.
STATUS_SAYS = {
    Status.RUNNING: gettext_noop("%(pipeline)s: run #%(run)s started"),
    Status.SUCCESSFUL: gettext_noop("%(pipeline)s: run #%(run)s successful"),
    Status.FAILED: gettext_noop("%(pipeline)s: run #%(run)s failed"),
    Status.KILLED: gettext_noop("%(pipeline)s: run #%(run)s killed"),
}
WITH_DETAIL = gettext_noop("%(what)s: %(detail)s")
KILLED_ON_REQUEST = gettext_noop("Killed on request.")


def first_line(text: str, otherwise: str = "") -> str:
    """The first line of a message, for a log line or an event; `otherwise` when it is blank."""
    line = text.splitlines()[0].strip() if text.strip() else ""
    return line[:MAX_LINE_CHARS] or otherwise


def summary_of(text: str | Said, otherwise: str | Said = "") -> str | Said:
    """A said sentence whole; a written one by its first line."""
    return text if isinstance(text, Said) else first_line(text) or otherwise


def waiting(reason: Said | None) -> dict:
    """What a run waiting for `reason` keeps of it (nothing: not waiting)."""
    return {"waiting_reason": english(reason), "waiting_said": kept(reason)}


def ending(error: str | Said, otherwise: str | Said) -> dict:
    """What an ending with `error` writes: its closing line, event and error, said or written."""
    return {
        "closing": summary_of(error, otherwise),
        "event": error,
        "error": english(error),
        "error_said": kept(error),
    }


class RunQuerySet(models.QuerySet):
    def active(self) -> "RunQuerySet":
        return self.filter(status__in=ACTIVE)

    def for_project(self, project) -> "RunQuerySet":
        return self.filter(project=project)

    def started_on(self, host: str) -> "RunQuerySet":
        """The runs that hold part of `host` now; `worker` is "<host>:<process id>"."""
        return self.filter(status__in=STARTED, worker__startswith=f"{host}:")

    def handed_back(self) -> "RunQuerySet":
        """Scheduled runs that a worker handed back for want of room, waiting their turn."""
        reasons = Q(waiting_reason__startswith=WAITING_FOR_ROOM) | Q(
            waiting_reason__startswith=WAITING_BEHIND
        )
        return self.filter(reasons, status=Status.SCHEDULED, kill_requested=False)


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
    # What it was given, the service's defaults filled in when it was queued.
    cpus = models.PositiveSmallIntegerField(default=1)
    memory_gb = models.FloatField(default=4)
    disk_gb = models.FloatField(null=True, blank=True, help_text="Empty: no cap.")
    gpus = models.PositiveSmallIntegerField(default=0)
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
    # Who asked for the run and for its kill; empty when its schedule started it.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kill_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="In English, or as the run's code wrote it.")
    error_said = models.JSONField(null=True, blank=True, help_text="The error the service said.")
    waiting_reason = models.CharField(max_length=200, blank=True, help_text="In English.")
    waiting_said = models.JSONField(null=True, blank=True)
    produced_version = models.OneToOneField(
        PackageVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="made_by"
    )
    snapshot = models.ForeignKey(
        "datasets.Snapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    results = models.JSONField(null=True, blank=True)
    log_bytes = models.BigIntegerField(default=0)
    # What the run's code logged through MLflow's calls: a record of the run, never a
    # parameter of the pipeline, so no later run gets them as variables.
    logged_parameters = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)

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

    def record_logged(self, parameters: dict[str, str], tags: dict[str, str]) -> None:
        self.logged_parameters, self.tags = parameters, tags
        self.save(update_fields=["logged_parameters", "tags"])

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
            event=say(gettext_noop("on %(worker)s"), worker=worker),
            started_at=now,
            heartbeat_at=now,
            worker=worker,
            **waiting(None),
        )

    def mark_packaging(self) -> bool:
        """Running -> packaging while the package's environment is built the first time."""
        return self._move(Status.PACKAGING, [Status.RUNNING])

    def resume(self) -> bool:
        """Packaging -> running once the environment is there."""
        return self._move(Status.RUNNING, [Status.PACKAGING])

    def succeed(self, closing: str | Said, event: str | Said = "", **outputs) -> bool:
        """Running -> successful with what it published, unless a kill was asked for first."""
        return self._end(
            Status.SUCCESSFUL,
            [Status.RUNNING],
            closing=closing,
            event=event,
            guard={"kill_requested": False},
            **outputs,
        )

    # An error is said by the service (a Said, shown in the reader's language) or written by
    # the run's code (a str, shown as written).

    def fail(self, error: str | Said) -> bool:
        failed = say(gettext_noop("The run failed."))
        return self._end(Status.FAILED, STARTED, **ending(error, failed))

    def kill(self, error: str | Said | None = None) -> bool:
        """A started run that its runner stopped on request."""
        killed = say(KILLED_ON_REQUEST)
        return self._end(Status.KILLED, STARTED, **ending(error or killed, killed))

    def lose(self, error: str | Said, silent_since) -> bool:
        """Fail a started run whose worker sent no heartbeat since `silent_since`."""
        lost = say(gettext_noop("Worker lost."))
        guard = {"heartbeat_at__lt": silent_since}
        return self._end(Status.FAILED, STARTED, guard=guard, **ending(error, lost))

    def request_kill(self, user=None) -> None:
        """A scheduled run ends at once and never starts; a started one is stopped by its runner."""
        error = say(gettext_noop("Killed before it started."))
        killed = self._end(
            Status.KILLED,
            [Status.SCHEDULED],
            **ending(error, error),
            kill_requested=True,
            kill_requested_by=user,
        )
        if not killed:
            Run.objects.filter(id=self.id, status__in=STARTED).update(
                kill_requested=True, kill_requested_by=user
            )
        self.kill_requested = True

    def _end(self, status: str, allowed: list, **changes) -> bool:
        now = timezone.now()
        return self._move(status, allowed, **{"ended_at": now, "heartbeat_at": now, **changes})

    def _move(
        self, status: str, allowed: list, guard=None, closing="", event=None, **fields
    ) -> bool:
        """The one guarded write of a status; `event` None records no activity event."""
        with transaction.atomic():
            text = english(closing)
            counted = {"log_bytes": F("log_bytes") + len(text) + 1} if text else {}
            runs = Run.objects.filter(id=self.id, status__in=allowed, **(guard or {}))
            if runs.update(status=status, **fields, **counted) != 1:
                return False
            if text:
                self.log_lines.create(
                    n=self.last_line_number() + 1,
                    time=timezone.now(),
                    stream=Stream.SYSTEM,
                    text=text,
                    said=kept(closing),
                )
            if event is not None:
                self.record_status(status, event)
        for name, value in {"status": status, **fields}.items():
            setattr(self, name, value)
        return True

    def last_line_number(self) -> int:
        return self.log_lines.aggregate(last=Max("n"))["last"] or 0

    def record_status(self, status: str, detail: str | Said = "") -> None:
        """Tell the project's activity that this run started or ended."""
        message = say(STATUS_SAYS[status], pipeline=self.pipeline_name, run=self.id)
        if summary := summary_of(detail):
            message = say(WITH_DETAIL, what=message, detail=summary)
        link = self.get_absolute_url()
        record_event(
            self.project_id, EVENT_OF_STATUS[status], message, self.caused_by(status), link
        )

    def caused_by(self, status: str):
        """The person behind a move to `status`; None when the schedule or a worker made it."""
        if status == Status.RUNNING:
            return self.started_by
        if status == Status.KILLED:
            # The runner that stops the run holds a copy read before the person asked.
            self.refresh_from_db(fields=["kill_requested_by"])
            return self.kill_requested_by
        return None

    @property
    def resources(self) -> Resources:
        return Resources(self.cpus, self.memory_gb, self.disk_gb, self.gpus)

    @property
    def gpu(self) -> bool:
        return self.gpus > 0

    @property
    def saves_training_data(self) -> bool:
        return self.parameters.get("save_training_data", "false").lower() == "true"

    @property
    def is_finished(self) -> bool:
        return self.status not in ACTIVE

    @property
    def running_for(self) -> int | None:
        """Whole seconds since a running run started: its page's header, polled, counts up."""
        if self.started_at and not self.ended_at:
            return round((timezone.now() - self.started_at).total_seconds())
        return None

    @property
    def is_stopping(self) -> bool:
        """A kill was asked for and the runner has not ended the run yet."""
        return self.kill_requested and not self.is_finished

    @property
    def status_key(self) -> str:
        return "stopping" if self.is_stopping else self.status

    @property
    def status_label(self) -> str:
        return _("Stopping") if self.is_stopping else self.get_status_display()

    @property
    def error_text(self) -> str:
        """The error in the reader's language when the service said it; else as written."""
        return shown(self.error_said, self.error)

    @property
    def waiting_text(self) -> str:
        return shown(self.waiting_said, self.waiting_reason)

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
    text = models.TextField(help_text="As written; the service's own lines in English.")
    said = models.JSONField(null=True, blank=True, help_text="A service line, worded when shown.")

    class Meta:
        ordering = ["run", "n"]
        constraints = [models.UniqueConstraint(fields=["run", "n"], name="one_line_number_per_run")]

    def __str__(self) -> str:
        return f"{self.n} {self.stream}: {self.text[:60]}"

    @property
    def shown_text(self) -> str:
        return shown(self.said, self.text)


class Artifact(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    path = models.CharField(max_length=1024)
    size = models.BigIntegerField()
    # Empty for artifacts published before it was recorded.
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["run", "path"], name="artifact_path_unique")]

    def __str__(self) -> str:
        return self.path

    @property
    def key(self) -> str:
        return f"runs/{self.run_id}/artifacts/{self.path}"


MEMORY = gettext_noop("%(amount)s memory")


class Taken(models.TextChoices):
    YES = "yes", _("Taken")
    GONE = "gone", _("Not scheduled any more")
    NO_ROOM = "no-room", _("Handed back")


class WorkerQuerySet(models.QuerySet):
    def could_take(self, resources: Resources) -> "WorkerQuerySet":
        """The workers big enough for `resources` once nothing else runs on them."""
        return self.filter(
            cpus__gte=resources.cpus,
            memory_bytes__gte=resources.memory_bytes,
            gpus__gte=resources.gpus,
        )

    def largest(self) -> "Worker | None":
        return self.order_by("-memory_bytes", "-cpus", "-gpus", "name").first()


class Worker(models.Model):
    """A worker host (one WORKER_NAME): what it has, what its runs hold, when it last spoke.

    Its runs reserve their cores, memory and GPUs here when they are claimed; what is
    reserved is counted again from the runs started on it at each claim, release and
    report, so a run that ended, however it ended, holds nothing.
    """

    name = models.CharField(max_length=200, unique=True)
    queue = models.CharField(max_length=100, blank=True, help_text="The cluster it serves.")
    cpus = models.PositiveIntegerField(default=0)
    memory_bytes = models.BigIntegerField(default=0)
    gpus = models.PositiveIntegerField(default=0)
    reserved_cpus = models.PositiveIntegerField(default=0)
    reserved_memory_bytes = models.BigIntegerField(default=0)
    reserved_gpus = models.PositiveIntegerField(default=0)
    running = models.PositiveIntegerField(default=0, help_text="Runs in progress.")
    cache_bytes = models.BigIntegerField(default=0, help_text="Its blob cache.")
    environments_bytes = models.BigIntegerField(default=0)
    seen_at = models.DateTimeField(default=timezone.now)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def capacity(self) -> str:
        """ "2 cores, 8 GB memory and no GPU", for a person."""
        return _("%(cores)s, %(memory)s and %(gpus)s") % {
            "cores": cores_text(self.cpus),
            "memory": memory_text(round(self.memory_bytes / GB, 2)),
            "gpus": gpus_text(self.gpus),
        }

    def lacking(self, resources: Resources, idle: bool = False) -> str:
        """What this worker has too little of, free now (or once `idle`), for `resources`, in
        English: "" when they fit."""
        return english(self.shortfall(resources, idle))

    def shortfall(self, resources: Resources, idle: bool = False) -> Said | None:
        """What lacking() says, said; None when they fit."""
        cpus, memory, gpus = (0, 0, 0) if idle else self.reserved
        short = []
        if cpus + resources.cpus > self.cpus:
            short.append(counted(resources.cpus, CORE, CORES))
        if memory + resources.memory_bytes > self.memory_bytes:
            short.append(say(MEMORY, amount=gigabytes(resources.memory_gb)))
        if gpus + resources.gpus > self.gpus:
            short.append(counted(resources.gpus, ONE_GPU, GPUS))
        return together(short)

    @property
    def reserved(self) -> tuple[int, int, int]:
        return self.reserved_cpus, self.reserved_memory_bytes, self.reserved_gpus

    def count_reserved(self) -> None:
        """What the runs started on it hold, counted from them."""
        held = Run.objects.started_on(self.name).aggregate(
            cpus=Sum("cpus"), memory=Sum("memory_gb"), gpus=Sum("gpus"), runs=Count("id")
        )
        self.reserved_cpus = held["cpus"] or 0
        self.reserved_memory_bytes = int((held["memory"] or 0) * GB)
        self.reserved_gpus = held["gpus"] or 0
        self.running = held["runs"]

    def save_reserved(self) -> None:
        self.seen_at = timezone.now()
        fields = ["reserved_cpus", "reserved_memory_bytes", "reserved_gpus", "running"]
        self.save(update_fields=[*fields, "seen_at"])

    def take(self, run: Run, process: str) -> str:
        """Claim `run` for `process` of this worker when what it needs is free here, and
        reserve it, in one transaction that holds this worker's row: two claims on one
        worker never count the same free room. A Taken value."""
        with transaction.atomic():
            worker = Worker.objects.select_for_update().get(id=self.id)
            worker.count_reserved()
            if reason := worker.refusal(run):
                handed = Run.objects.filter(id=run.id, status=Status.SCHEDULED)
                return Taken.NO_ROOM if handed.update(**waiting(reason)) else Taken.GONE
            if not run.claim(process):
                return Taken.GONE
            worker.count_reserved()
            worker.save_reserved()
        return Taken.YES

    def refusal(self, run: Run) -> Said | None:
        """Why this worker does not take `run` now: too little free, or an older run that
        could fit here waits for it first. None when it takes it."""
        if lacking := self.shortfall(run.resources):
            return say(FOR_ROOM, lacking=lacking)
        if first := self.first_in_line(run):
            return say(BEHIND, run=first.id)
        return None

    def first_in_line(self, run: Run) -> Run | None:
        """The oldest run of the same queue, handed back for want of room, that this worker
        could take once free: it goes first, so no large run waits for ever behind
        smaller ones. One whose task has not come back for RUN_REQUEUE_AFTER is ignored."""
        alive_since = timezone.now() - timedelta(seconds=settings.RUN_REQUEUE_AFTER)
        same_queue = {"gpus__gt": 0} if run.gpus else {"gpus": 0}
        return (
            Run.objects.handed_back()
            .filter(
                id__lt=run.id,
                queued_at__gte=alive_since,
                cpus__lte=self.cpus,
                memory_gb__lte=self.memory_bytes / GB,
                gpus__lte=self.gpus,
                **same_queue,
            )
            .order_by("id")
            .first()
        )


class MetricPointQuerySet(models.QuerySet):
    def summaries(self) -> list[dict]:
        """Per metric name: its last value (at the highest step), min, max and count of points,
        computed from the points (what the runner keeps in Metric rows as it stores them)."""
        figures = self.values("name").annotate(
            min=Min("value"), max=Max("value"), count=Count("id")
        )
        return [{**row, **self.last_of(row["name"])} for row in figures.order_by("name")]

    def last_of(self, name: str) -> dict:
        # One query a name: as a subquery of the grouped query, PostgreSQL sorted every point
        # of the metric again for each of them.
        value, step = (
            self.filter(name=name).order_by("-step", "-id").values_list("value", "step")[0]
        )
        return {"last": value, "last_step": step}

    def series(self, name: str) -> list[tuple[int, float | None]]:
        """The (step, value) points of one metric by step, read from the index alone."""
        return list(self.filter(name=name).order_by("step").values_list("step", "value"))

    def stored_times(self) -> list[tuple[int, datetime]]:
        """(step, time stored) of the points; of a step given twice, the later last. Ordered
        by step first: ordered by id alone, SQLite walks every point of the run by its run's
        index instead of finding the steps through `metric_point_values`."""
        return list(self.order_by("step", "id").values_list("step", "time"))


class MetricPoint(models.Model):
    """One value a run reported for a metric at a step; `value` null is a gap (NaN, infinity)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metric_points")
    name = models.CharField(max_length=MAX_METRIC_NAME)
    step = models.BigIntegerField()
    value = models.FloatField(null=True)
    time = models.DateTimeField()

    objects = MetricPointQuerySet.as_manager()

    class Meta:
        # The value in the index lets a chart read a series without touching the table.
        indexes = [
            models.Index(fields=["run", "name", "step", "value"], name="metric_point_values")
        ]

    def __str__(self) -> str:
        return f"{self.name}[{self.step}] = {self.value}"


class MetricQuerySet(models.QuerySet):
    def points_stored(self) -> int:
        """How many points the metrics were given: it grows whenever points come. From the
        metrics' rows, not the points': PostgreSQL would sort a run's points to find its last."""
        return self.aggregate(points=Sum("count"))["points"] or 0

    def summaries(self) -> list[dict]:
        return list(self.order_by("name").values("name", "last", "min", "max", "count"))

    def last_values(self) -> dict[str, float | None]:
        return dict(self.order_by("name").values_list("name", "last"))

    def most_reported_names(self) -> list[str]:
        """The metrics' names, those that most runs reported first, alphabetical among equals."""
        counted = self.values("name").annotate(runs=Count("run_id")).order_by("-runs", "name")
        return [row["name"] for row in counted]

    def last_of_runs(self) -> list[tuple[int, str, float | None]]:
        return list(self.values_list("run_id", "name", "last"))


class Metric(models.Model):
    """One metric of a run, summed up as its points are stored, so that a run's summary never
    reads its points. NaN and infinity are gaps (null): min and max skip them, count does not."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=MAX_METRIC_NAME)
    count = models.PositiveIntegerField(default=0)
    min = models.FloatField(null=True)
    max = models.FloatField(null=True)
    last = models.FloatField(null=True, help_text="The value at the highest step.")
    last_step = models.BigIntegerField(default=-1)
    chart = models.JSONField(
        null=True,
        blank=True,
        help_text="The series reduced for its chart: while the run goes, as of its last refresh.",
    )

    objects = MetricQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="one_metric_per_name")]

    def __str__(self) -> str:
        return self.name

    # What add() changes, and so what storing a metric again updates.
    SUMMED = ["count", "min", "max", "last", "last_step"]

    def copy(self) -> "Metric":
        """A new row of the same figures: a stored row keeps its id, which an upsert must not
        send again."""
        return Metric(
            run_id=self.run_id, name=self.name, **{f: getattr(self, f) for f in self.SUMMED}
        )

    def add(self, step: int, value: float | None) -> None:
        self.count += 1
        if value is not None:
            self.min = value if self.min is None else min(self.min, value)
            self.max = value if self.max is None else max(self.max, value)
        if step >= self.last_step:  # a step given again replaces the last value
            self.last_step, self.last = step, value
