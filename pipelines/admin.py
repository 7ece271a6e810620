from django.contrib import admin

from pipelines.models import Artifact, LogLine, Metric, MetricPoint, Pipeline, Run, Worker


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "type", "package_version", "schedule_kind", "created_at"]
    list_filter = ["type", "schedule_kind"]
    search_fields = ["name", "project__name"]
    raw_id_fields = ["package_version", "input_dataset", "evaluation_dataset"]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "pipeline_name", "project", "type", "status", "worker", "created_at"]
    list_filter = ["status", "type", "gpus"]
    search_fields = ["pipeline_name", "worker"]
    raw_id_fields = [
        "pipeline",
        "package_version",
        "produced_version",
        "snapshot",
        "input_dataset",
        "evaluation_dataset",
    ]


@admin.register(LogLine)
class LogLineAdmin(admin.ModelAdmin):
    list_display = ["run", "n", "time", "stream", "text"]
    list_filter = ["stream"]
    raw_id_fields = ["run"]


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["path", "run", "size"]
    raw_id_fields = ["run"]


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["name", "run", "count", "last", "min", "max"]
    search_fields = ["name"]
    raw_id_fields = ["run"]


@admin.register(MetricPoint)
class MetricPointAdmin(admin.ModelAdmin):
    list_display = ["run", "name", "step", "value", "time"]
    raw_id_fields = ["run"]


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ["name", "queue", "cpus", "memory_bytes", "gpus", "running", "seen_at"]
    search_fields = ["name"]
    # Written by the workers themselves; staff may only remove the row of a host gone.
    readonly_fields = [field.name for field in Worker._meta.fields]
