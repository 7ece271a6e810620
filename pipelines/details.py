"""The Pipeline Details page of one run: header, outputs, logs and lineage."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from aicenter.access import project_for
from pipelines.models import Run


@login_required
def run_detail(request, project_id: int, run_id: int):
    project = project_for(request.user, project_id)
    run = get_object_or_404(
        Run.objects.for_project(project).select_related(
            "package_version__package", "produced_version", "input_dataset", "evaluation_dataset"
        ),
        id=run_id,
    )
    context = {
        "project": project,
        "section": "pipelines",
        "run": run,
        "log_lines": run.log_lines.order_by("-n")[:500][::-1],
        "artifacts": run.artifacts.all()[:200],
    }
    return render(request, "pipelines/run.html", context)
