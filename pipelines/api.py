import json

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from ninja import Router

from aicenter.access import project_for
from aicenter.api import check_form, json_object, paginated
from aicenter.models import Role
from aicenter.store import get_store
from datasets.zips import zip_response, zip_stream
from pipelines.forms import PipelineForm
from pipelines.models import Pipeline, Run
from pipelines.start import create_pipeline, delete_pipeline, request_kill, start_run

router = Router(tags=["pipelines"])
LOG_PAGE = 1000
PIPELINE_BODY = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["name", "type", "package", "version"],
                    "properties": {
                        "name": {"type": "string"},
                        "type": {"enum": ["training", "evaluation", "full"]},
                        "package": {"type": "integer"},
                        "version": {"type": "string"},
                        "input_dataset": {"type": "integer"},
                        "input_path": {"type": "string"},
                        "evaluation_dataset": {"type": "integer"},
                        "evaluation_path": {"type": "string"},
                        "parameters": {"type": "object"},
                        "gpu": {"type": "boolean"},
                        "timeout": {"type": "integer"},
                        "schedule": {"type": "object"},
                    },
                }
            }
        }
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
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "ended_at": iso(run.ended_at),
        "execution_time": run.execution_time,
        "score": run.score,
        "error": run.error or None,
        "waiting": run.waiting_reason or None,
        "outputs": {
            "package": run.package_version.package_id,
            "version": run.produced_version.label if run.produced_version_id else None,
            "artifacts": run.artifacts.count(),
            "snapshot": run.snapshot_id is not None,
        },
    }


def pipeline_data(pipeline: Pipeline, runs) -> dict:
    return {
        "id": pipeline.id,
        "name": pipeline.name,
        "type": pipeline.type,
        "package": pipeline.package_version.package_id,
        "version": pipeline.package_version.label,
        "input_dataset": pipeline.input_dataset_id,
        "input_path": pipeline.input_path,
        "evaluation_dataset": pipeline.evaluation_dataset_id,
        "evaluation_path": pipeline.evaluation_path,
        "parameters": pipeline.all_parameters,
        "gpu": pipeline.gpu,
        "schedule": {"kind": pipeline.schedule_kind},
        "created_at": iso(pipeline.created_at),
        "runs": [run_data(run) for run in runs],
    }


def runs_of(pipeline: Pipeline):
    return pipeline.runs.select_related("package_version", "produced_version")


def pipeline_in(project, pipeline_id: int) -> Pipeline:
    queryset = Pipeline.objects.filter(project=project).select_related("package_version")
    return get_object_or_404(queryset, id=pipeline_id)


def run_in(project, run_id: int) -> Run:
    queryset = Run.objects.filter(project=project).select_related(
        "package_version", "produced_version"
    )
    return get_object_or_404(queryset, id=run_id)


def form_data(body: bytes) -> dict:
    """The JSON body of API.md, in the fields of PipelineForm."""
    payload = json_object(body)
    schedule = payload.pop("schedule", None) or {"kind": "now"}
    payload["schedule_kind"] = schedule.get("kind") if isinstance(schedule, dict) else None
    if "parameters" in payload:
        payload["parameters"] = json.dumps(payload["parameters"])
    return payload


@router.get("/projects/{int:project_id}/pipelines")
def list_pipelines(request, project_id: int):
    project = project_for(request.user, project_id)
    pipelines = Pipeline.objects.filter(project=project).select_related("package_version")
    return paginated(request, pipelines, lambda p: pipeline_data(p, runs_of(p)[:1]))


@router.post("/projects/{int:project_id}/pipelines", openapi_extra=PIPELINE_BODY)
def create_pipeline_endpoint(request, project_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    form = PipelineForm(project, form_data(request.body))
    pipeline = create_pipeline(project, check_form(form), request.user)
    return JsonResponse(pipeline_data(pipeline, runs_of(pipeline)), status=201)


@router.get("/projects/{int:project_id}/pipelines/{int:pipeline_id}")
def get_pipeline(request, project_id: int, pipeline_id: int):
    pipeline = pipeline_in(project_for(request.user, project_id), pipeline_id)
    return pipeline_data(pipeline, runs_of(pipeline))


@router.post("/projects/{int:project_id}/pipelines/{int:pipeline_id}/runs")
def run_again(request, project_id: int, pipeline_id: int):
    pipeline = pipeline_in(project_for(request.user, project_id, Role.EDITOR), pipeline_id)
    return JsonResponse(run_data(start_run(pipeline)), status=201)


@router.delete("/projects/{int:project_id}/pipelines/{int:pipeline_id}")
def remove_pipeline(request, project_id: int, pipeline_id: int):
    delete_pipeline(pipeline_in(project_for(request.user, project_id, Role.EDITOR), pipeline_id))
    return HttpResponse(status=204)


@router.get("/projects/{int:project_id}/runs/{int:run_id}", url_name="run")
def get_run(request, project_id: int, run_id: int):
    return run_data(run_in(project_for(request.user, project_id), run_id))


@router.post("/projects/{int:project_id}/runs/{int:run_id}/kill")
def kill_run(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id, Role.EDITOR), run_id)
    request_kill(run)
    run.refresh_from_db()
    return run_data(run)


@router.get("/projects/{int:project_id}/runs/{int:run_id}/logs")
def run_logs(request, project_id: int, run_id: int, after: int = 0):
    run = run_in(project_for(request.user, project_id), run_id)
    lines = list(run.log_lines.filter(n__gt=after).order_by("n")[:LOG_PAGE])
    return {
        "lines": [
            {"n": line.n, "time": iso(line.time), "stream": line.stream, "text": line.text}
            for line in lines
        ],
        "finished": run.is_finished and len(lines) < LOG_PAGE,
    }


@router.get("/projects/{int:project_id}/runs/{int:run_id}/results.json", url_name="run_results")
def run_results(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    if run.results is None:
        raise Http404("The run wrote no _results.json.")
    return run.results


@router.get("/projects/{int:project_id}/runs/{int:run_id}/artifacts", url_name="run_artifacts")
def run_artifacts(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    return paginated(request, run.artifacts.all(), lambda a: {"path": a.path, "size": a.size})


@router.get("/projects/{int:project_id}/runs/{int:run_id}/artifacts.zip")
def run_artifacts_zip(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    entries = ((a.path, a.key, a.size) for a in run.artifacts.all())
    return zip_response(zip_stream(entries), f"run-{run.id}-artifacts.zip")


@router.get("/projects/{int:project_id}/runs/{int:run_id}/artifacts/{path:path}")
def run_artifact(request, project_id: int, run_id: int, path: str):
    run = run_in(project_for(request.user, project_id), run_id)
    artifact = get_object_or_404(run.artifacts, path=path)
    url = get_store().download_url(artifact.key, path.rsplit("/", 1)[-1])
    return redirect(request.build_absolute_uri(url))


@router.get("/projects/{int:project_id}/runs/{int:run_id}/snapshot", url_name="run_snapshot")
def run_snapshot(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    if run.snapshot is None:
        raise Http404("The run saved no data snapshot.")
    files = run.snapshot.files.all()
    return paginated(
        request, files, lambda f: {"path": f.path, "size": f.size, "sha256": f.sha256_id}
    )


@router.get("/projects/{int:project_id}/runs/{int:run_id}/snapshot.zip")
def run_snapshot_zip(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    if run.snapshot is None:
        raise Http404("The run saved no data snapshot.")
    return zip_response(zip_stream(run.snapshot.zip_entries()), run.snapshot.download_name)
