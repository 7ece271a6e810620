from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from aicenter.access import project_for


@login_required
def pipelines_list(request, project_id: int):
    project = project_for(request.user, project_id)
    return render(request, "pipelines/list.html", {"project": project, "section": "pipelines"})
