"""What the Create Pipeline screen needs beyond PipelineForm: parameter rows and live choices."""

import json
from dataclasses import dataclass, field
from datetime import datetime

from aicenter.templatetags.aicenter import in_largest_unit
from aicenter.validators import whole_number
from datasets.models import Dataset, FolderEntry
from packages.models import MLPackage, PackageVersion
from pipelines.fields import Field, definition_fields, package_and_version
from pipelines.forms import NEEDS_INPUT
from pipelines.models import DEFAULT_PARAMETERS, Pipeline, Run

DATE_INPUT = "%Y-%m-%dT%H:%M"


def posted_definition(post) -> tuple[dict, list[tuple[str, str]]]:
    """The posted fields, with the parameter rows (added or removed in place) as JSON."""
    rows = list(zip(post.getlist("param_name"), post.getlist("param_value"), strict=False))
    if (index := whole_number(post.get("remove_parameter", ""))) is not None:
        rows = rows[:index] + rows[index + 1 :]
    if "add_parameter" in post:
        rows.append(("", ""))
    values = {name: post.get(name) for name in post if not name.startswith("param_")}
    named = {name.strip(): value for name, value in rows if name or value}
    values["parameters"] = json.dumps(named)
    for picker in ["input", "evaluation"]:
        if f"browse_{picker}" in post:
            values[f"{picker}_path"] = post[f"browse_{picker}"]
    if "every" not in values:  # the interval was not on the screen yet: offer the default
        values.update(interval_fields(None))
    return values, rows


def initial_definition(pipeline: Pipeline | None) -> tuple[dict, list[tuple[str, str]]]:
    if pipeline is None:
        return {"type": "training", **interval_fields(None)}, list(DEFAULT_PARAMETERS.items())
    values = {}
    for entry in definition_fields():
        values.update(screen_values(pipeline, entry))
    return values, list(pipeline.all_parameters.items())


def run_definition(run: Run) -> tuple[dict, list[tuple[str, str]]]:
    """The screen filled from what a run ran: its pipeline's schedule, the run's everything else."""
    values, _ = initial_definition(run.pipeline)
    for entry in definition_fields():
        if entry.run and entry.name not in {"parameters", "timeout"}:
            values.update(screen_values(run, entry))
    return values, list(run.parameters.items())


def screen_values(pipeline: Pipeline | Run, entry: Field) -> dict:
    """A field of the definition as the screen's inputs hold it, named as PipelineForm names it."""
    if entry.name == "package_version":
        return package_and_version(pipeline)
    if entry.name == "parameters":
        return {"parameters": json.dumps(pipeline.all_parameters)}
    if entry.name == "interval_minutes":
        repeat = "cron" if pipeline.cron else "interval"
        return {"repeat": repeat, **interval_fields(pipeline.interval_minutes)}
    if entry.name == "gpus":
        # The screen counts GPUs; the switch is for API bodies written before they were counted.
        return {"gpus": pipeline.gpus, "gpu": False}
    value = entry.stored(pipeline)
    return {entry.name: value.strftime(DATE_INPUT) if isinstance(value, datetime) else value}


def interval_fields(minutes: int | None) -> dict:
    every, unit = in_largest_unit(minutes) if minutes else (1, "days")
    return {"every": every, "unit": unit}


@dataclass
class Picker:
    """A folder picker: the chosen folder of a dataset and the folders below it."""

    name: str
    dataset: Dataset | None
    path: str
    folders: list[FolderEntry] = field(default_factory=list)
    dataset_errors: list[str] = field(default_factory=list)
    path_errors: list[str] = field(default_factory=list)

    @property
    def crumbs(self) -> list[tuple[str, str]]:
        parts = self.path.split("/") if self.path else []
        return [(part, "/".join(parts[: index + 1])) for index, part in enumerate(parts)]


def picker(project, name: str, values: dict, errors: dict) -> Picker:
    dataset = Dataset.objects.filter(project=project, id=as_id(values.get(f"{name}_dataset")))
    dataset = dataset.first()
    path = (values.get(f"{name}_path") or "").strip("/")
    chosen = Picker(name, dataset, path)
    chosen.dataset_errors = errors.get(f"{name}_dataset", [])
    chosen.path_errors = errors.get(f"{name}_path", [])
    if dataset is not None:
        chosen.folders = dataset.folder(path if dataset.has_folder(path) else "").folders
    return chosen


@dataclass
class VersionChoices:
    """Packages, then the majors of the chosen package, then the versions of the chosen major."""

    packages: list[MLPackage]
    package: MLPackage | None
    majors: list[int]
    major: int | None
    versions: list[PackageVersion]
    version: str


def version_choices(project, values: dict) -> VersionChoices:
    packages = list(MLPackage.objects.filter(project=project).order_by("name"))
    package = next((p for p in packages if p.id == as_id(values.get("package"))), None)
    if package is None:
        return VersionChoices(packages, None, [], None, [], "")
    every = list(package.versions.order_by("major", "minor"))
    majors = sorted({version.major for version in every})
    label = values.get("version") or ""
    major = as_id(values.get("major"))
    if major not in majors:
        major = as_id(label.partition(".")[0])
    if major not in majors:
        major = majors[-1]
    versions = [version for version in every if version.major == major]
    if label not in {version.label for version in versions}:
        label = versions[-1].label if versions else ""
    return VersionChoices(packages, package, majors, major, versions, label)


def as_id(value) -> int | None:
    return whole_number(str(value or ""))


def shows(kind: str) -> dict[str, bool]:
    """Which dataset choices a pipeline type needs."""
    return {"input": kind in NEEDS_INPUT, "evaluation": kind in {"evaluation", "full"}}


@dataclass
class ParameterRow:
    name: str
    value: str
    errors: list[str] = field(default_factory=list)


def parameter_rows(rows: list[tuple[str, str]], form) -> tuple[list[ParameterRow], list[str]]:
    """Each parameter row with the errors that name it, and the errors that name no row."""
    shown = [ParameterRow(name, value) for name, value in rows]
    by_name = {row.name.strip(): row for row in shown}
    unplaced = []
    refusals = form.errors.as_data().get("parameters", []) if form is not None else []
    for error in refusals:
        named = (error.params or {}).get("parameter")
        if named in by_name:
            by_name[named].errors.extend(error.messages)
        else:
            unplaced.extend(error.messages)
    return shown, unplaced
