"""Reaching a pipeline or a run inside a project the caller may see; else 404.

The project comes from aicenter.access.project_for. A caller that reads more than the row
(relations, counts) passes its own queryset, so there is one helper per kind of object.
"""

from django.shortcuts import get_object_or_404

from pipelines.models import Pipeline, PipelineQuerySet, Run, RunQuerySet


def pipeline_in(project, pipeline_id: int, queryset: PipelineQuerySet | None = None) -> Pipeline:
    queryset = Pipeline.objects.with_latest_run() if queryset is None else queryset
    return get_object_or_404(queryset.filter(project=project), id=pipeline_id)


def run_in(project, run_id: int, queryset: RunQuerySet | None = None) -> Run:
    queryset = Run.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.for_project(project), id=run_id)
