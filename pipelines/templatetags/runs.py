"""What a version's pages show of the runs behind it, rendered by the app that owns runs.

The packages app may not import pipelines (ARCHITECTURE.md), so its templates load these
tags, which build the lineage and the comparison from the versions with typed runs and
render the pipelines' partials.
"""

from django import template

from packages.models import PackageVersion
from pipelines.compare import Column, score_difference, version_sections
from pipelines.lineage import lineage_of_version

register = template.Library()


@register.inclusion_tag("pipelines/partials/run_lineage.html", takes_context=True)
def version_lineage(context, version: PackageVersion) -> dict:
    """The lineage card of a version: the run that made it and the runs that used it."""
    lineage = lineage_of_version(version)
    return {"project": context["project"], "lineage": lineage, "current": "version"}


@register.inclusion_tag("pipelines/compare_table.html")
def versions_compared(
    left: PackageVersion, right: PackageVersion, left_name: str, right_name: str
) -> dict:
    """Two versions side by side, through the runs that trained them."""
    return {
        "columns": [
            Column(left_name, left.get_absolute_url()),
            Column(right_name, right.get_absolute_url()),
        ],
        "sections": version_sections([left, right]),
        "score_difference": score_difference(left.score, right.score),
    }
