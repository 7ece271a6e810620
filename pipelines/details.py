"""The Pipeline Details page of one run: header, outputs, logs and lineage; and run comparison."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRefresh

from aicenter.access import project_for
from aicenter.models import Role
from aicenter.store import get_store
from aicenter.validators import whole_number
from datasets.forms import DatasetForm
from datasets.previews import image_response, preview_for
from datasets.snapshots import dataset_from_snapshot
from datasets.zips import zip_response, zip_stream
from pipelines import outputs
from pipelines.access import run_in
from pipelines.charts import CHARTED_METRICS, Axis, metrics_of
from pipelines.compare import MOST_COMPARED, comparison_of
from pipelines.lineage import lineage_of_run
from pipelines.models import Run, RunQuerySet

RUN_RELATIONS = [
    "package_version__package",
    "produced_version__package",
    "input_dataset",
    "evaluation_dataset",
    "snapshot",
    "pipeline",
]
COMPARE_CHOICES = 100


def shown_runs() -> RunQuerySet:
    """Runs with the relations a details page shows, read in the same query."""
    return Run.objects.select_related(*RUN_RELATIONS)


def run_page(request, template: str, project, run: Run, status: int = 200, **context):
    context |= {
        "project": project,
        "section": "pipelines",
        "run": run,
        "can_edit": project.current_role != Role.VIEWER,
    }
    return render(request, f"pipelines/{template}", context, status=status)


def snapshot_form(run: Run) -> DatasetForm | None:
    if run.snapshot is None:
        return None
    return DatasetForm(initial={"name": f"{run.snapshot.dataset_name}-run-{run.id}"})


@login_required
@require_safe
def run_detail(request, project_id: int, run_id: int):
    project = project_for(request.user, project_id)
    run = run_in(project, run_id, shown_runs())
    artifacts = run.artifacts.all()
    return run_page(
        request,
        "run.html",
        project,
        run,
        tab="overview",
        reload=not run.is_finished,
        lineage=lineage_of_run(run),
        tree=outputs.artifact_tree(artifacts[: outputs.ARTIFACTS_SHOWN]),
        artifact_count=artifacts.count(),
        artifacts_shown=outputs.ARTIFACTS_SHOWN,
        snapshot_files=outputs.snapshot_files(run),
        snapshot_form=snapshot_form(run),
        results=json.dumps(run.results, indent=2) if run.results is not None else None,
        siblings=sibling_runs(run),
    )


def sibling_runs(run: Run) -> list[Run]:
    """Other runs of the same pipeline, to pick one to compare with."""
    if run.pipeline_id is None:
        return []
    return list(run.pipeline.runs.exclude(id=run.id)[:COMPARE_CHOICES])


@login_required
@require_safe
def run_header(request, project_id: int, run_id: int):
    """The header alone, polled while the run goes; asked to, reloads the page once it ends."""
    project = project_for(request.user, project_id)
    run = run_in(project, run_id, shown_runs())
    reload = bool(request.GET.get("reload"))
    if run.is_finished and reload:
        return HttpResponseClientRefresh()
    return run_page(request, "partials/run_header.html", project, run, reload=reload)


@login_required
@require_safe
def run_logs(request, project_id: int, run_id: int):
    project = project_for(request.user, project_id)
    run = run_in(project, run_id, shown_runs())
    lines = outputs.log_tail(run)
    return run_page(
        request,
        "run_logs.html",
        project,
        run,
        tab="logs",
        lines=lines,
        earlier=outputs.earlier_than(lines),
        follow=not run.is_finished,
        last=lines[-1].n if lines else 0,
    )


@login_required
@require_safe
def run_log_lines(request, project_id: int, run_id: int):
    """Lines after ?after= (the live tail, asking again while the run goes) or before ?before=."""
    project = project_for(request.user, project_id)
    run = run_in(project, run_id, shown_runs())
    if "before" in request.GET:
        lines = outputs.log_before(run, line_number(request, "before"))
        context = {"lines": lines, "earlier": outputs.earlier_than(lines)}
    else:
        after = line_number(request, "after")
        # The status is read before the lines: a run that had ended had its closing line.
        lines = outputs.log_after(run, after)
        full_page = len(lines) == outputs.LOG_PAGE
        last = lines[-1].n if lines else after
        context = {"lines": lines, "follow": full_page or not run.is_finished, "last": last}
    return run_page(request, "partials/run_log_lines.html", project, run, **context)


def line_number(request, name: str) -> int:
    try:
        return max(int(request.GET.get(name, 0)), 0)
    except ValueError:
        raise Http404(_("A line number must be a whole number.")) from None


@login_required
@require_safe
def run_metrics(request, project_id: int, run_id: int):
    """The Metrics tab; while the run goes, its charts ask for themselves again, and are
    drawn again only once new points came (?seen= how many points they show); ?x=time
    draws them over the time since the run started, instead of by step."""
    project = project_for(request.user, project_id)
    run = run_in(project, run_id, shown_runs())
    axis = chosen_axis(request)
    newest = 0 if run.is_finished else run.metrics.points_stored()
    if not run.is_finished and request.GET.get("seen") == str(newest):
        return HttpResponse(status=204)  # htmx keeps what it shows, and asks again
    summaries, charts = metrics_of(run, axis)
    template = "partials/run_metrics.html" if request.htmx else "run_metrics.html"
    return run_page(
        request,
        template,
        project,
        run,
        tab="metrics",
        summaries=summaries,
        charts=charts,
        charted=CHARTED_METRICS,
        newest=newest,
        axis=axis,
        axes=list(Axis),
    )


def chosen_axis(request) -> Axis:
    try:
        return Axis(request.GET.get("x", Axis.STEP))
    except ValueError:
        raise Http404("The x axis is either step or time.") from None


@login_required
@require_safe
def run_log_download(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    response = StreamingHttpResponse(outputs.log_text(run), content_type="text/plain")
    response["Content-Disposition"] = content_disposition_header(True, f"run-{run.id}.log")
    return response


def artifact_in(run: Run, path: str):
    return outputs.previewable(get_object_or_404(run.artifacts, path=path))


@login_required
@require_safe
def run_artifact(request, project_id: int, run_id: int, path: str):
    """One artifact's capped preview: a page, or the fragment alone for the page's preview pane."""
    project = project_for(request.user, project_id)
    run = run_in(project, run_id, shown_runs())
    artifact = artifact_in(run, path)
    template = "partials/run_artifact.html" if request.htmx else "run_artifact.html"
    return run_page(
        request, template, project, run, artifact=artifact, preview=preview_for(artifact)
    )


@login_required
@require_safe
def run_artifact_image(request, project_id: int, run_id: int, path: str):
    run = run_in(project_for(request.user, project_id), run_id)
    return image_response(artifact_in(run, path))


@login_required
@require_safe
def run_artifact_download(request, project_id: int, run_id: int, path: str):
    run = run_in(project_for(request.user, project_id), run_id)
    artifact = artifact_in(run, path)
    return redirect(get_store().download_url(artifact.key, artifact.path.rsplit("/", 1)[-1]))


@login_required
@require_safe
def run_artifacts_zip(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    stream = zip_stream(outputs.artifact_entries(run))
    return zip_response(stream, f"run-{run.id}-artifacts.zip")


def snapshot_of(run: Run):
    if run.snapshot is None:
        raise Http404(_("The run saved no data snapshot."))
    return run.snapshot


@login_required
@require_safe
def run_snapshot_zip(request, project_id: int, run_id: int):
    snapshot = snapshot_of(run_in(project_for(request.user, project_id), run_id))
    return zip_response(zip_stream(snapshot.zip_entries()), snapshot.download_name)


@login_required
@require_http_methods(["GET", "POST"])
def run_snapshot_dataset(request, project_id: int, run_id: int):
    """Make a dataset holding the files of the run's data snapshot."""
    project = project_for(request.user, project_id, Role.EDITOR)
    run = run_in(project, run_id, shown_runs())
    snapshot = snapshot_of(run)
    form = DatasetForm(request.POST) if request.method == "POST" else snapshot_form(run)
    if form.is_bound and form.is_valid():
        try:
            name = form.cleaned_data["name"]
            dataset = dataset_from_snapshot(snapshot, project, name, request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Made dataset %(name)s from the run's snapshot.") % {"name": dataset.name},
            )
            return redirect(dataset)
    status = 400 if form.errors else 200
    return run_page(request, "run_snapshot_dataset.html", project, run, status, form=form)


@login_required
@require_safe
def run_results_download(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    if run.results is None:
        raise Http404(_("The run wrote no _results.json."))
    response = HttpResponse(outputs.results_file(run), content_type="application/json")
    response["Content-Disposition"] = content_disposition_header(True, "_results.json")
    return response


@login_required
@require_safe
def run_everything_zip(request, project_id: int, run_id: int):
    run = run_in(project_for(request.user, project_id), run_id)
    return zip_response(zip_stream(outputs.everything_entries(run)), f"run-{run.id}.zip")


@login_required
@require_safe
def compare_runs(request, project_id: int):
    """?runs=<id>&runs=<id>...: up to MOST_COMPARED runs side by side; fewer than two, and the
    page asks for more. Ids of runs the project does not have are left out."""
    project = project_for(request.user, project_id)
    asked = list(dict.fromkeys(filter(None, map(whole_number, request.GET.getlist("runs")))))
    chosen = chosen_runs(project, asked[:MOST_COMPARED])
    context = {
        "project": project,
        "section": "pipelines",
        "chosen": chosen,
        "choices": compare_choices(project, chosen),
        "most": MOST_COMPARED,
        "capped": len(asked) > MOST_COMPARED,
        "comparison": comparison_of(chosen) if len(chosen) >= 2 else None,
    }
    return render(request, "pipelines/compare.html", context)


def chosen_runs(project, ids: list[int]) -> list[Run]:
    found = shown_runs().for_project(project).in_bulk(ids)
    return [found[run_id] for run_id in ids if run_id in found]


def compare_choices(project, chosen: list[Run]) -> list[Run]:
    """The runs one may add: the project's latest, but those chosen."""
    runs = Run.objects.for_project(project).exclude(id__in=[run.id for run in chosen])
    return list(runs[:COMPARE_CHOICES])
