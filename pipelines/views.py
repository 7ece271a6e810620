from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aicenter.access import project_for
from aicenter.models import Role
from pipelines.models import Pipeline, Run
from pipelines.start import request_kill, run_again


def back_to(request, fallback: str):
    """Where an action returns: the page it came from when that is ours, else the fallback."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
def pipelines_list(request, project_id: int):
    project = project_for(request.user, project_id)
    pipelines = Pipeline.objects.filter(project=project).select_related("package_version__package")
    runs = Run.objects.for_project(project).select_related("package_version__package")[:50]
    context = {"project": project, "section": "pipelines", "pipelines": pipelines, "runs": runs}
    return render(request, "pipelines/list.html", context)


@login_required
@require_POST
def kill(request, project_id: int, run_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    run = get_object_or_404(Run.objects.for_project(project), id=run_id)
    if run.is_finished:
        messages.info(request, f"Run #{run.id} had already ended.")
    else:
        request_kill(run)
        messages.success(request, f"Run #{run.id} is being stopped.")
    return back_to(request, run.get_absolute_url())


@login_required
@require_POST
def again(request, project_id: int, run_id: int):
    project = project_for(request.user, project_id, Role.EDITOR)
    run = run_again(get_object_or_404(Run.objects.for_project(project), id=run_id))
    messages.success(request, f"Run #{run.id} is queued.")
    return back_to(request, run.get_absolute_url())
