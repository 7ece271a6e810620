"""Two runs or two versions side by side, with the rows that differ marked.

A version is compared through the run that trained it (its parameters, duration and
artifacts), which is why both comparisons live with the runs. The version comparison page
of the packages app loads it as a tag (pipelines/templatetags/runs.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.template.defaultfilters import date, filesizeformat

from aicenter.templatetags.aicenter import MISSING, duration_text, score_text
from packages.models import PackageVersion
from pipelines.lineage import data_of
from pipelines.models import Run

ARTIFACTS_COMPARED = 1000


@dataclass(frozen=True)
class Row:
    label: str
    left: str
    right: str

    @property
    def differs(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[Row]

    @property
    def differences(self) -> int:
        return sum(row.differs for row in self.rows)


def side_by_side(title: str, left: Mapping[str, str], right: Mapping[str, str]) -> Section:
    """One row per name found on either side, in the order first seen."""
    names = dict.fromkeys([*left, *right])
    return Section(
        title, [Row(name, left.get(name, MISSING), right.get(name, MISSING)) for name in names]
    )


def run_facts(run: Run) -> dict[str, str]:
    made = run.produced_version
    return {
        "Status": run.get_status_display(),
        "Pipeline": run.pipeline_name,
        "Type": run.get_type_display(),
        "Package version": run.package_version.label,
        "New version": made.label if made else MISSING,
        "Data": ", ".join(f"{d.name}/{folder}".rstrip("/") for d, folder in data_of(run))
        or MISSING,
        "Resources": run.resources.summary,
        "Started": date(run.started_at, "Y-m-d H:i:s") or MISSING,
        "Duration": duration_text(run.execution_time),
        "Score": score_text(run.score),
    }


def artifact_sizes(run: Run | None) -> dict[str, str]:
    if run is None:
        return {}
    rows = run.artifacts.order_by("path").values_list("path", "size")[:ARTIFACTS_COMPARED]
    return {path: filesizeformat(size) for path, size in rows}


def run_sections(left: Run, right: Run) -> list[Section]:
    return [
        side_by_side("Run", run_facts(left), run_facts(right)),
        side_by_side("Parameters", left.parameters, right.parameters),
        side_by_side("Artifacts", artifact_sizes(left), artifact_sizes(right)),
    ]


def version_facts(version: PackageVersion) -> dict[str, str]:
    run: Run | None = version.trained_by
    return {
        "Source": version.get_source_display(),
        "Trained from": version.parent.label if version.parent else MISSING,
        "Trained by": f"run #{run.id}" if run else MISSING,
        "Score": score_text(version.score),
        "Training duration": duration_text(run.execution_time if run else None),
        "Size": filesizeformat(version.size),
        "Created": date(version.created_at, "Y-m-d H:i"),
    }


def version_sections(left: PackageVersion, right: PackageVersion) -> list[Section]:
    runs: tuple[Run | None, Run | None] = left.trained_by, right.trained_by
    parameters = [run.parameters if run else {} for run in runs]
    files = [{path: filesizeformat(size) for path, size in v.files} for v in (left, right)]
    return [
        side_by_side("Version", version_facts(left), version_facts(right)),
        side_by_side("Parameters", *parameters),
        side_by_side("Artifacts", *(artifact_sizes(run) for run in runs)),
        side_by_side("Files", *files),
    ]


def score_difference(left: float | None, right: float | None) -> float | None:
    return None if left is None or right is None else right - left
