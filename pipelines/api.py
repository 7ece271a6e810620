import json
import re
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from aicenter.access import project_for
from aicenter.api import REDIRECT, ZIP_FILE, check_form, json_object, paginated
from aicenter.models import Project, Role
from aicenter.schemas import failures
from aicenter.store import get_store
from aicenter.templatetags.aicenter import in_largest_unit
from datasets.zips import zip_response, zip_stream
from pipelines.access import pipeline_in, run_in
from pipelines.compare import run_sections, score_difference
from pipelines.definitions import create_pipeline, delete_pipeline, update_pipeline
from pipelines.fields import Field, Group, groups, package_and_version, top_fields
from pipelines.forms import PipelineForm, RunForm
from pipelines.lineage import lineage_of_run
from pipelines.models import Pipeline, Run, ScheduleKind, Worker
from pipelines.schemas import (
    ArtifactPage,
    ComparisonOut,
    LineageOut,
    LogsOut,
    MetricPointPage,
    MetricsOut,
    PipelineOut,
    PipelinePage,
    ResultsOut,
    RunOut,
    SnapshotFilePage,
    WorkerOut,
    WorkerPage,
)
from pipelines.start import start_run

router = Router(tags=["pipelines"])
EVERY = re.compile(r"(?P<count>\d+)\s*(?P<unit>[mhdw])")
UNIT_OF_LETTER = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LOG_PAGE = 1000
# A pipeline answers what its runs get: the service's default where it names none.
RESOURCES = {"cpus", "memory_gb", "disk_gb", "gpus"}

POINTS_PAGE = 1000

RUN_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "parameters": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "Parameters of this run alone, over the pipeline's.",
                        }
                    },
                }
            }
        },
    }
}


def iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def run_data(run: Run) -> dict:
    return {
        "id": run.id,
        "pipeline": run.pipeline_id,
        "type": run.type,
        "status": run.status,
        "package": run.package_version.package_id,
        "version": run.package_version.label,
        "parameters": run.parameters,
        "logged_parameters": run.logged_parameters,
        "tags": run.tags,
        "network": run.network,
        "resources": run.resources.as_dict(),
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "ended_at": iso(run.ended_at),
        "execution_time": run.execution_time,
        "score": run.score,
        "error": run.error_text or None,
        "waiting": run.waiting_text or None,
        "outputs": {
            "package": run.package_version.package_id,
            "version": run.produced_version.label if run.produced_version_id else None,
            "artifacts": artifact_count(run),
            "snapshot": run.snapshot_id is not None,
        },
    }


def pipeline_data(pipeline: Pipeline, runs) -> dict:
    return {
        "id": pipeline.id,
        **definition_data(pipeline),
        "gpu": pipeline.gpu,
        "created_at": iso(pipeline.created_at),
        "runs": [run_data(run) for run in runs],
    }


def definition_data(pipeline: Pipeline) -> dict:
    """The definition as API.md shapes it: the fields of DEFINITION, each group one object."""
    data = fields_data(pipeline, top_fields())
    for group in groups():
        data[group.key] = fields_data(pipeline, group.fields)
    # When it fires next is no field of the definition: the schedule's answer adds it.
    if pipeline.schedule_kind != ScheduleKind.NOW:
        data["schedule"]["next"] = iso(pipeline.next_fire)
    return data


def fields_data(pipeline: Pipeline, fields: list[Field]) -> dict:
    data = {}
    for field in fields:
        if field.answered(pipeline):
            data.update(field_data(pipeline, field))
    return data


def field_data(pipeline: Pipeline, field: Field) -> dict:
    if field.name == "package_version":
        return package_and_version(pipeline)
    if field.name == "parameters":
        return {"parameters": pipeline.all_parameters}
    if field.name == "interval_minutes":
        return {field.api_name: every_text(pipeline.interval_minutes)}
    if field.name in RESOURCES:
        return {field.name: getattr(pipeline.resources, field.name)}
    value = field.stored(pipeline)
    return {field.api_name: iso(value) if isinstance(value, datetime) else value}


def with_outputs(runs: QuerySet) -> QuerySet:
    """Runs with what run_data reads, in one query however many runs there are."""
    counted = runs.annotate(artifact_count=Count("artifacts"))
    # Django drops Meta.ordering from a query that groups: keep the newest first.
    return counted.select_related("package_version", "produced_version").order_by(
        *Run._meta.ordering
    )


def artifact_count(run: Run) -> int:
    # A run from with_outputs() carries its count; a run just made asks once.
    return run.artifact_count if hasattr(run, "artifact_count") else run.artifacts.count()


def runs_of(pipeline: Pipeline):
    return with_outputs(pipeline.runs.all())


def form_data(body: bytes) -> dict:
    """The JSON body of API.md, in the fields of PipelineForm."""
    payload = json_object(body)
    for group in groups():
        values = payload.pop(group.key, None) or group.absent
        payload.update(group_fields(group, values if isinstance(values, dict) else {}))
    if "parameters" in payload:
        payload["parameters"] = json.dumps(payload["parameters"])
    return payload


def run_body(request) -> dict:
    """The optional body of a run: JSON, or a form whose `parameters` field holds JSON."""
    if request.content_type == "multipart/form-data":
        return {"parameters": request.POST.get("parameters")}
    return {"parameters": json.dumps(json_object(request.body).get("parameters"))}


def group_fields(group: Group, values: dict) -> dict:
    """One object of the body, in the fields of PipelineForm; a field left out stays out."""
    fields = {}
    for field in group.fields:
        if field.name == "interval_minutes":
            fields.update(every_fields(values))
        else:
            fields[field.name] = values.get(field.api_name)
    return {name: value for name, value in fields.items() if value is not None}


def every_fields(schedule: dict) -> dict:
    """A schedule's "every" ("6h", or minutes) as PipelineForm's repeat, every and unit."""
    fields = {"repeat": "cron" if "cron" in schedule else "interval"}
    every = str(schedule.get("every", ""))
    match = EVERY.fullmatch(every.strip())
    if match:
        fields.update(every=match["count"], unit=UNIT_OF_LETTER[match["unit"]])
    else:
        fields.update(every=every, unit="minutes")
    return fields


def every_text(minutes: int) -> str:
    count, unit = in_largest_unit(minutes)
    return f"{count}{unit[0]}"


def body_schema() -> dict:
    """API.md's body for the OpenAPI document: PipelineForm's fields, each group one object."""
    form_fields = PipelineForm.base_fields
    names = [name for field in top_fields() for name in field.form_names]
    properties = {name: json_type(form_fields[name]) for name in names}
    properties.update({group.key: {"type": "object"} for group in groups()})
    properties["resources"] = resources_schema(form_fields)
    properties["gpu"] = {"type": "boolean", "description": "true: one GPU (resources.gpus 1)."}
    required = [name for name in names if form_fields[name].required]
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


def resources_schema(form_fields: dict) -> dict:
    properties = {name: json_type(form_fields[name]) for name in sorted(RESOURCES)}
    return {
        "type": "object",
        "properties": properties,
        "description": "What each run may use; a field left out takes the service's default.",
    }


def json_type(form_field: forms.Field) -> dict:
    # The subclasses first: a ModelChoiceField is a ChoiceField, a JSONField a CharField.
    if isinstance(form_field, forms.ModelChoiceField):
        return {"type": "integer"}
    if isinstance(form_field, forms.ChoiceField):
        return {"enum": [value for value, _label in form_field.choices]}
    if isinstance(form_field, forms.BooleanField):
        return {"type": "boolean"}
    if isinstance(form_field, forms.FloatField):  # before IntegerField, its parent
        return {"type": "number"}
    if isinstance(form_field, forms.IntegerField):
        return {"type": "integer"}
    if isinstance(form_field, forms.JSONField):
        return {"type": "object"}
    return {"type": "string"}


PIPELINE_BODY = body_schema()


@router.get(
    "/projects/{int:project_id}/pipelines", response={200: PipelinePage, **failures(400, 401, 404)}
)
def list_pipelines(request, project_id: int):
    project = project_for(request.user, project_id)
    pipelines = Pipeline.objects.filter(project=project).with_latest_run()
    counted = pipelines.annotate(artifact_count=Count("latest_run__artifacts"))
    # Django drops Meta.ordering from a query that groups: keep the newest first.
    return paginated(request, counted.order_by(*Pipeline._meta.ordering), listed_pipeline_data)


def listed_pipeline_data(pipeline: Pipeline) -> dict:
    """A pipeline of the list with its newest run, whose artifacts the list counted."""
    run = pipeline.latest_run
    if run is not None:
        run.artifact_count = pipeline.artifact_count
    return pipeline_data(pipeline, [run] if run else [])


@router.post(
    "/projects/{int:project_id}/pipelines",
    response={201: PipelineOut, **failures(400, 401, 403, 404)},
    openapi_extra=PIPELINE_BODY,
)
def create_pipeline_endpoint(request, project_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    form = PipelineForm(project, form_data(request.body))
    pipeline = create_pipeline(project, check_form(form), request.user)
    return Status(201, pipeline_data(pipeline, runs_of(pipeline)))


@router.get(
    "/projects/{int:project_id}/pipelines/{int:pipeline_id}",
    response={200: PipelineOut, **failures(401, 404)},
)
def get_pipeline(request, project_id: int, pipeline_id: int):
    pipeline = pipeline_in(project_for(request.user, project_id), pipeline_id)
    return pipeline_data(pipeline, runs_of(pipeline))


@router.put(
    "/projects/{int:project_id}/pipelines/{int:pipeline_id}",
    response={200: PipelineOut, **failures(400, 401, 403, 404)},
    openapi_extra=PIPELINE_BODY,
)
def change_pipeline(request, project_id: int, pipeline_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    pipeline = pipeline_in(project, pipeline_id)
    form = PipelineForm(project, form_data(request.body), pipeline=pipeline)
    pipeline = update_pipeline(pipeline, check_form(form), request.user)
    return pipeline_data(pipeline, runs_of(pipeline))


@router.post(
    "/projects/{int:project_id}/pipelines/{int:pipeline_id}/runs",
    response={201: RunOut, **failures(400, 401, 403, 404)},
    openapi_extra=RUN_BODY,
)
def run_again(request, project_id: int, pipeline_id: int):
    """Run the pipeline now; `parameters` in the body override its own for this run only."""
    pipeline = pipeline_in(project_for(request.user, project_id, Role.EDITOR), pipeline_id)
    form = RunForm(pipeline, run_body(request))
    run = start_run(pipeline, check_form(form)["parameters"], request.user)
    return Status(201, run_data(run))


@router.delete(
    "/projects/{int:project_id}/pipelines/{int:pipeline_id}",
    response={204: None, **failures(401, 403, 404)},
)
def remove_pipeline(request, project_id: int, pipeline_id: int):
    pipeline = pipeline_in(project_for(request.user, project_id, Role.EDITOR), pipeline_id)
    delete_pipeline(pipeline, request.user)
    return HttpResponse(status=204)


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}",
    url_name="run",
    response={200: RunOut, **failures(401, 404)},
)
def get_run(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id, with_outputs(Run.objects.all()))
    return run_data(run)


@router.post(
    "/projects/{int:project_id}/runs/{int:run_id}/kill",
    response={200: RunOut, **failures(401, 403, 404)},
)
def kill_run(request, project_id: int, run_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    run = run_in(project, run_id, with_outputs(Run.objects.all()))
    run.request_kill(request.user)
    run.refresh_from_db()
    return run_data(run)


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/logs",
    response={200: LogsOut, **failures(400, 401, 404)},
)
def run_logs(request, project_id: int, run_id: int, after: int = 0):
    run = run_in(project_for(request.user, project_id), run_id)
    lines = list(run.log_lines.filter(n__gt=after).order_by("n")[:LOG_PAGE])
    return {
        "lines": [
            {"n": line.n, "time": iso(line.time), "stream": line.stream, "text": line.shown_text}
            for line in lines
        ],
        "finished": run.is_finished and len(lines) < LOG_PAGE,
    }


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/metrics",
    response={200: MetricsOut, **failures(401, 404)},
)
def run_metrics(request, project_id: int, run_id: int):
    """Every metric the run reported so far, by name."""
    run = run_in(project_for(request.user, project_id), run_id)
    return {"items": run.metrics.summaries()}


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/metrics/{path:name}",
    response={200: MetricPointPage, **failures(400, 401, 404)},
)
def run_metric(request, project_id: int, run_id: int, name: str, after: int | None = None):
    """One metric's points by step (and in the order reported, for a step given twice);
    `after` keeps those past a step, to follow a run that goes on."""
    run = run_in(project_for(request.user, project_id), run_id)
    points = run.metric_points.filter(name=name)
    if not points.exists():
        raise Http404(_("The run reported no metric named %(name)s.") % {"name": repr(name)})
    if after is not None:
        points = points.filter(step__gt=after)
    return paginated(
        request,
        points.order_by("step", "id"),
        lambda p: {"step": p.step, "value": p.value, "time": iso(p.time)},
        per_page=POINTS_PAGE,
    )


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/results.json",
    url_name="run_results",
    response={200: ResultsOut, **failures(401, 404)},
)
def run_results(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    if run.results is None:
        raise Http404(_("The run wrote no _results.json."))
    return run.results


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/artifacts",
    url_name="run_artifacts",
    response={200: ArtifactPage, **failures(400, 401, 404)},
)
def run_artifacts(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    return paginated(request, run.artifacts.all(), artifact_data)


def artifact_data(artifact) -> dict:
    return {"path": artifact.path, "size": artifact.size, "sha256": artifact.sha256 or None}


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/artifacts.zip",
    response={200: None, **failures(401, 404)},
    openapi_extra=ZIP_FILE,
)
def run_artifacts_zip(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    entries = ((a.path, a.key, a.size) for a in run.artifacts.all())
    return zip_response(zip_stream(entries), f"run-{run.id}-artifacts.zip")


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/artifacts/{path:path}",
    response={302: None, **failures(401, 404)},
    openapi_extra=REDIRECT,
)
def run_artifact(request, project_id: int, run_id: int, path: str):
    run = run_in(project_for(request.user, project_id), run_id)
    artifact = get_object_or_404(run.artifacts, path=path)
    url = get_store().download_url(artifact.key, path.rsplit("/", 1)[-1])
    return redirect(request.build_absolute_uri(url))


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/snapshot",
    url_name="run_snapshot",
    response={200: SnapshotFilePage, **failures(400, 401, 404)},
)
def run_snapshot(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    if run.snapshot is None:
        raise Http404(_("The run saved no data snapshot."))
    files = run.snapshot.files.all()
    return paginated(
        request, files, lambda f: {"path": f.path, "size": f.size, "sha256": f.sha256_id}
    )


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/snapshot.zip",
    response={200: None, **failures(401, 404)},
    openapi_extra=ZIP_FILE,
)
def run_snapshot_zip(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    if run.snapshot is None:
        raise Http404(_("The run saved no data snapshot."))
    return zip_response(zip_stream(run.snapshot.zip_entries()), run.snapshot.download_name)


@router.get(
    "/projects/{int:project_id}/runs/{int:run_id}/lineage",
    response={200: LineageOut, **failures(401, 404)},
)
def run_lineage(request, project_id: int, run_id: int):
    """The run's chain: data folders -> snapshot -> run -> version -> runs that used it."""
    lineage = lineage_of_run(run_in(project_for(request.user, project_id), run_id))
    return {
        "data": [{"dataset": data.id, "path": folder} for data, folder in lineage.data],
        "snapshot": lineage.run.snapshot_id,
        "run": lineage.run.id,
        "trained_from": lineage.trained_from.label,
        "version": lineage.version.label if lineage.version else None,
        "used_by": [run.id for run in lineage.used_by],
        "used_by_count": lineage.used_by_count,
    }


@router.get(
    "/projects/{int:project_id}/runs/compare",
    response={200: ComparisonOut, **failures(400, 401, 404)},
)
def compare_runs(request, project_id: int, runs: list[int] | None = Query(None)):  # noqa: B008
    """Two runs side by side: ?runs=<id>&runs=<id>. Sections: the run's facts, the final
    value of each metric, parameters and artifacts; the web page compares up to ten."""
    project = project_for(request.user, project_id)
    if len(runs or []) != 2:
        raise ValidationError({"runs": _("Name exactly two runs to compare.")})
    left, right = (run_in(project, run_id) for run_id in runs)
    return {
        "runs": [left.id, right.id],
        "score_difference": score_difference(left.score, right.score),
        "sections": sections_in_english([left, right]),
    }


def sections_in_english(runs: list[Run]) -> list[dict]:
    """Labels and values are the API's data: the same whatever the request's language,
    unlike its error sentences."""
    with translation.override("en"):
        return [
            {
                "title": str(section.title),
                "rows": [
                    {
                        "label": str(row.label),
                        "left": str(row.values[0]),
                        "right": str(row.values[1]),
                        "differs": row.differs,
                    }
                    for row in section.rows
                ],
            }
            for section in run_sections(runs)
        ]


@router.get("/workers", response={200: WorkerPage, **failures(400, 401, 404)})
def list_workers(request):
    """The worker hosts, for staff and for members of a project (whose runs they take)."""
    if not (request.user.is_staff or Project.objects.for_user(request.user).exists()):
        raise Http404(_("No such resource."))
    return paginated(request, Worker.objects.all(), worker_data)


def worker_data(worker: Worker) -> dict:
    return {name: getattr(worker, name) for name in WorkerOut.model_fields} | {
        "seen_at": iso(worker.seen_at)
    }
