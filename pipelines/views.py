from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from aicenter.access import project_for
from pipelines.models import Pipeline, Run


@login_required
def pipelines_list(request, project_id: int):
    project = project_for(request.user, project_id)
    pipelines = Pipeline.objects.filter(project=project).select_related("package_version__package")
    runs = Run.objects.for_project(project).select_related("package_version__package")[:50]
    context = {"project": project, "section": "pipelines", "pipelines": pipelines, "runs": runs}
    return render(request, "pipelines/list.html", context)
