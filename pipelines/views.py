from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from aicenter.access import project_for
from aicenter.models import Role
from datasets.models import Dataset
from pipelines.access import pipeline_in, run_in
from pipelines.columns import MetricColumns
from pipelines.definitions import (
    create_pipeline,
    delete_pipeline,
    start_changed_run,
    update_pipeline,
)
from pipelines.filters import ListFilters
from pipelines.forms import PipelineForm
from pipelines.models import Pipeline, Run, Worker
from pipelines.resources import Resources
from pipelines.screen import (
    initial_definition,
    parameter_rows,
    picker,
    posted_definition,
    run_definition,
    shows,
    version_choices,
)
from pipelines.start import run_again, start_run

PIPELINES_PER_PAGE = 25
RUNS_PER_PAGE = 25


def safe_next(request, target: str, fallback: str) -> str:
    """The page an action came from when that is ours, else the fallback."""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def back_to(request, fallback: str):
    """Where an action returns: the page it came from when that is ours, else the fallback."""
    return redirect(safe_next(request, request.POST.get("next", ""), fallback))


@login_required
@require_safe
def pipelines_list(request, project_id: int):
    project = project_for(request.user, project_id)
    filters = ListFilters.from_query(request.GET, project)
    pipelines = filters.apply(Pipeline.objects.filter(project=project).with_latest_run())
    page = Paginator(pipelines, PIPELINES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "section": "pipelines",
        "page": page,
        "filters": filters,
        "live": any(p.latest_run and not p.latest_run.is_finished for p in page),
    }
    if request.htmx:
        return render(request, "pipelines/partials/pipeline_rows.html", context)
    return render(request, "pipelines/list.html", context)


@login_required
@require_safe
def pipeline_detail(request, project_id: int, pipeline_id: int):
    project = project_for(request.user, project_id)
    pipeline = pipeline_in(project, pipeline_id)
    runs = Paginator(pipeline.runs.select_related("produced_version__package"), RUNS_PER_PAGE)
    page = runs.get_page(request.GET.get("page"))
    columns = MetricColumns.from_query(request.GET, pipeline)
    columns.fill(page.object_list)
    context = {
        "project": project,
        "section": "pipelines",
        "pipeline": pipeline,
        "runs": page,
        "columns": columns,
        "live": any(not run.is_finished for run in page),
    }
    if request.htmx:
        return render(request, "pipelines/partials/pipeline_runs.html", context)
    return render(request, "pipelines/pipeline.html", context)


@login_required
def pipeline_create(request, project_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    return definition_page(request, project, None)


@login_required
def pipeline_edit(request, project_id: int, pipeline_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    return definition_page(request, project, pipeline_in(project, pipeline_id))


def definition_page(request, project, pipeline: Pipeline | None):
    """The Create Pipeline screen, also for editing; `refresh` redraws it with new choices."""
    if request.method != "POST":
        values, rows = initial_definition(pipeline)
        if pipeline is None:  # "Create pipeline" from a package version names it
            named = ["package", "version"]
            values.update({key: request.GET[key] for key in named if key in request.GET})
        return definition_form(request, project, pipeline, values, rows)
    values, rows = posted_definition(request.POST)
    if "refresh" in request.GET:
        return definition_form(request, project, pipeline, values, rows)
    form = PipelineForm(project, values, pipeline=pipeline)
    if not form.is_valid():
        return definition_form(request, project, pipeline, values, rows, form, status=400)
    if pipeline is None:
        pipeline = create_pipeline(project, form.cleaned_data, request.user)
        messages.success(request, _("Pipeline %(name)s created.") % {"name": pipeline.name})
    else:
        update_pipeline(pipeline, form.cleaned_data, request.user)
        messages.success(request, _("Pipeline %(name)s changed.") % {"name": pipeline.name})
    return redirect(pipeline)


@login_required
def again_with_changes(request, project_id: int, run_id: int):
    """The Create Pipeline screen filled from a run: start it once so changed, or save the
    changes into its pipeline (that button posts to the pipeline's edit page)."""
    project = project_for(request.user, project_id, Role.EDITOR)
    run = run_in(project, run_id)
    if run.pipeline is None:
        raise Http404(_("The run's pipeline was removed."))
    if request.method != "POST":
        values, rows = run_definition(run)
        return definition_form(request, project, run.pipeline, values, rows, source=run)
    values, rows = posted_definition(request.POST)
    form = PipelineForm(project, values, pipeline=run.pipeline)
    if "refresh" in request.GET or not form.is_valid():
        status = 200 if "refresh" in request.GET else 400
        bound = None if "refresh" in request.GET else form
        return definition_form(request, project, run.pipeline, values, rows, bound, status, run)
    started = start_changed_run(run.pipeline, form.cleaned_data, request.user)
    messages.success(
        request,
        _("Run #%(id)s is queued; %(name)s stays as it was.")
        % {"id": started.id, "name": run.pipeline.name},
    )
    return redirect(started)


def definition_form(
    request, project, pipeline, values, rows, form=None, status=200, source: Run | None = None
):
    """The screen drawn from `values`; a bound `form` adds its errors next to their fields."""
    errors = form.errors if form is not None else {}
    parameters, parameter_errors = parameter_rows(rows, form)
    context = {
        "project": project,
        "section": "pipelines",
        "pipeline": pipeline,
        "form": form or PipelineForm(project, initial=values),
        "values": values,
        "rows": parameters,
        "parameter_errors": parameter_errors,
        "choices": version_choices(project, values),
        "datasets": Dataset.objects.filter(project=project).order_by("name"),
        "pickers": [picker(project, name, values, errors) for name in ["input", "evaluation"]],
        "shows": shows(values.get("type") or "training"),
        "defaults": Resources.with_defaults(),
        "refresh_url": f"{request.path}?refresh",
        "source": source,
    }
    if request.htmx:
        return render(request, "pipelines/partials/pipeline_form.html", context, status=status)
    return render(request, "pipelines/form.html", context, status=status)


@login_required
def pipeline_delete(request, project_id: int, pipeline_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    pipeline = pipeline_in(project, pipeline_id)
    if request.method == "POST":
        delete_pipeline(pipeline, request.user)
        messages.success(
            request, _("Pipeline %(name)s removed; its runs stay.") % {"name": pipeline.name}
        )
        return redirect("pipelines:list", project.id)
    context = {"project": project, "section": "pipelines", "pipeline": pipeline}
    return render(request, "pipelines/delete.html", context)


@login_required
@require_POST
def pipeline_start(request, project_id: int, pipeline_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    run = start_run(pipeline_in(project, pipeline_id), user=request.user)
    messages.success(request, _("Run #%(id)s is queued.") % {"id": run.id})
    return back_to(request, run.get_absolute_url())


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def kill(request, project_id: int, run_id: int):
    """Asks first, as removing does: a kill cannot be undone."""
    project = project_for(request.user, project_id, Role.EDITOR)
    run = run_in(project, run_id)
    if request.method != "POST":
        back = safe_next(request, request.GET.get("next", ""), run.get_absolute_url())
        context = {"project": project, "section": "pipelines", "run": run, "back": back}
        return render(request, "pipelines/kill.html", context)
    if run.is_finished:
        messages.info(request, _("Run #%(id)s had already ended.") % {"id": run.id})
    else:
        run.request_kill(request.user)
        messages.success(request, _("Run #%(id)s is being stopped.") % {"id": run.id})
    return back_to(request, run.get_absolute_url())


@login_required
@require_POST
def again(request, project_id: int, run_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    run = run_again(run_in(project, run_id), request.user)
    messages.success(request, _("Run #%(id)s is queued.") % {"id": run.id})
    return back_to(request, run.get_absolute_url())


@login_required
@require_safe
def project_workers(request, project_id: int):
    """Every worker, read-only, for a member of the project whose runs they take."""
    project = project_for(request.user, project_id)
    context = {"project": project, "section": "workers", "workers": Worker.objects.all()}
    return render(request, "pipelines/workers.html", context)


@login_required
@require_safe
def all_workers(request):
    if not request.user.is_staff:
        raise Http404(_("No such page."))
    return render(request, "pipelines/workers.html", {"workers": Worker.objects.all()})
