import re

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from aicenter.models import Project
from packages.contract import PipelineType
from packages.models import PackageVersion

DEFAULT_PARAMETERS = {"artifacts_directory": "artifacts", "save_training_data": "false"}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScheduleKind(models.TextChoices):
    NOW = "now", "Now"
    ONCE = "once", "Once, later"
    RECURRING = "recurring", "Recurring"


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
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

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
    time_limit = models.PositiveIntegerField(help_text="Seconds the run may take.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    created_at = models.DateTimeField(default=timezone.now)
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
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Run {self.id} of {self.pipeline_name}"

    def get_absolute_url(self) -> str:
        return reverse("pipelines:run", args=[self.project_id, self.id])

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
