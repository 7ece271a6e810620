"""Runs or versions side by side, one column each, with the rows that differ marked.

A version is compared through the run that trained it (its parameters, duration and
artifacts), which is why both comparisons live with the runs. The version comparison page
of the packages app loads it as a tag (pipelines/templatetags/runs.py).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.template.defaultfilters import date, filesizeformat
from django.utils.translation import gettext as _

from aicenter.templatetags.aicenter import MISSING, duration_text, score_text, significant_text
from packages.models import PackageVersion
from pipelines.lineage import data_of
from pipelines.models import Metric, Run
from pipelines.overlays import Overlay, overlays_of

ARTIFACTS_COMPARED = 1000
# Past ten, the columns crowd a laptop's screen and the lines' colours grow hard to tell apart.
MOST_COMPARED = 10


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[Row]
    # Labels that are names a person or their code chose (parameters, files), shown as code.
    named: bool = True

    @property
    def differences(self) -> int:
        return sum(row.differs for row in self.rows)


@dataclass(frozen=True)
class Column:
    """The head of one compared column: what it is, where it lives, and which package made it
    when the columns do not all share one."""

    title: str
    url: str = ""
    package: str = ""

    @property
    def name(self) -> str:
        return f"{self.title} · {self.package}" if self.package else self.title


def side_by_side(title: str, columns: Sequence[Mapping[str, str]], named: bool = True) -> Section:
    """One row per name found in any column, in the order first seen."""
    names = dict.fromkeys(name for column in columns for name in column)
    rows = [Row(name, tuple(column.get(name, MISSING) for column in columns)) for name in names]
    return Section(title, rows, named)


def run_facts(run: Run) -> dict[str, str]:
    # Labels are worded as a page is made, in the language of its request (gettext, not lazy).
    made = run.produced_version
    return {
        _("Status"): run.get_status_display(),
        _("Pipeline"): run.pipeline_name,
        _("Type"): run.get_type_display(),
        _("Package version"): f"{run.package_version.package.name} {run.package_version.label}",
        _("New version"): made.label if made else MISSING,
        _("Data"): ", ".join(f"{d.name}/{folder}".rstrip("/") for d, folder in data_of(run))
        or MISSING,
        _("Resources"): run.resources.summary,
        _("Started"): date(run.started_at, "Y-m-d H:i:s") or MISSING,
        _("Duration"): duration_text(run.execution_time),
        _("Score"): score_text(run.score),
    }


def artifact_sizes(run: Run | None) -> dict[str, str]:
    if run is None:
        return {}
    rows = run.artifacts.order_by("path").values_list("path", "size")[:ARTIFACTS_COMPARED]
    return {path: filesizeformat(size) for path, size in rows}


def final_values(runs: Sequence[Run]) -> list[dict[str, str]]:
    """Each run's metrics: the last value of each, read in one query."""
    found: dict[int, dict[str, str]] = {run.id: {} for run in runs}
    metrics = Metric.objects.filter(run__in=runs).order_by("name")
    for run_id, name, last in metrics.values_list("run_id", "name", "last"):
        found[run_id][name] = significant_text(last)
    return [found[run.id] for run in runs]


def run_sections(runs: Sequence[Run]) -> list[Section]:
    return [
        side_by_side(_("Run"), [run_facts(run) for run in runs], named=False),
        side_by_side(_("Final values"), final_values(runs)),
        side_by_side(_("Parameters"), [run.parameters for run in runs]),
        side_by_side(_("Artifacts"), [artifact_sizes(run) for run in runs]),
    ]


def run_columns(runs: Sequence[Run]) -> list[Column]:
    """A column per run; each names its package too when the runs' package versions differ."""
    mixed = len({run.package_version_id for run in runs}) > 1
    return [
        Column(
            _("Run #%(id)s") % {"id": run.id},
            run.get_absolute_url(),
            f"{run.package_version.package.name} {run.package_version.label}" if mixed else "",
        )
        for run in runs
    ]


@dataclass(frozen=True)
class Comparison:
    columns: list[Column]
    sections: list[Section]
    overlays: list[Overlay]
    score_difference: float | None


def comparison_of(runs: Sequence[Run]) -> Comparison:
    """Everything the compare page shows of these runs, in their order."""
    columns = run_columns(runs)
    pair = len(runs) == 2
    return Comparison(
        columns=columns,
        sections=run_sections(runs),
        overlays=overlays_of(runs, columns),
        score_difference=score_difference(runs[0].score, runs[1].score) if pair else None,
    )


def version_facts(version: PackageVersion) -> dict[str, str]:
    run: Run | None = version.trained_by
    return {
        _("Source"): version.get_source_display(),
        _("Trained from"): version.parent.label if version.parent else MISSING,
        _("Trained by"): _("run #%(id)s") % {"id": run.id} if run else MISSING,
        _("Score"): score_text(version.score),
        _("Training duration"): duration_text(run.execution_time if run else None),
        _("Size"): filesizeformat(version.size),
        _("Created"): date(version.created_at, "Y-m-d H:i"),
    }


def version_sections(versions: Sequence[PackageVersion]) -> list[Section]:
    runs: list[Run | None] = [version.trained_by for version in versions]
    files = [{path: filesizeformat(size) for path, size in v.files} for v in versions]
    return [
        side_by_side(_("Version"), [version_facts(v) for v in versions], named=False),
        side_by_side(_("Parameters"), [run.parameters if run else {} for run in runs]),
        side_by_side(_("Artifacts"), [artifact_sizes(run) for run in runs]),
        side_by_side(_("Files"), files),
    ]


def score_difference(left: float | None, right: float | None) -> float | None:
    return None if left is None or right is None else right - left
