from datetime import date
from pathlib import PurePosixPath

from croniter import croniter
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aicenter.templatetags.aicenter import MINUTES_IN
from datasets.models import Dataset
from packages.contract import NEEDED_METHODS, PipelineType
from packages.models import MLPackage, PackageVersion
from pipelines.models import DEFAULT_PARAMETERS, ENV_NAME, Overlap, Pipeline, ScheduleKind, Worker
from pipelines.resources import Resources
from pipelines.runner.workspace import RESERVED_NAMES

NEEDS_INPUT = {PipelineType.TRAINING, PipelineType.FULL}
# django-q2 keeps an interval in a small integer of minutes.
LONGEST_INTERVAL = 32767
INTERVAL_HELP = _("Give the interval as a whole number of minutes, hours, days or weeks.")


NEEDS_INPUT_DATASET = {
    PipelineType.TRAINING: _("A training pipeline needs an input dataset."),
    PipelineType.FULL: _("A full pipeline needs an input dataset."),
}
CANNOT_RUN = {
    PipelineType.TRAINING: _(
        "%(version)s cannot run training pipelines: they need %(methods)s in train.py's Main."
    ),
    PipelineType.EVALUATION: _(
        "%(version)s cannot run evaluation pipelines: they need %(methods)s in train.py's Main."
    ),
    PipelineType.FULL: _(
        "%(version)s cannot run full pipelines: they need %(methods)s in train.py's Main."
    ),
}
UNIT_LABELS = {"minutes": _("minutes"), "hours": _("hours"), "days": _("days"), "weeks": _("weeks")}
REPEAT_CHOICES = [("interval", _("Every N minutes, hours, days or weeks")), ("cron", _("Cron"))]


class JSONDateTimeField(forms.DateTimeField):
    """Django's field, which fails on anything but text; a JSON number is merely invalid."""

    def to_python(self, value):
        if value in self.empty_values or isinstance(value, str | date):
            return super().to_python(value)
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class PipelineForm(forms.Form):
    name = forms.CharField(max_length=100)
    type = forms.ChoiceField(choices=PipelineType.choices)
    package = forms.ModelChoiceField(queryset=MLPackage.objects.none())
    version = forms.CharField(max_length=20)
    input_dataset = forms.ModelChoiceField(queryset=None, required=False)
    input_path = forms.CharField(max_length=1024, required=False)
    evaluation_dataset = forms.ModelChoiceField(queryset=None, required=False)
    evaluation_path = forms.CharField(max_length=1024, required=False)
    parameters = forms.JSONField(required=False)
    gpu = forms.BooleanField(required=False)
    cpus = forms.IntegerField(required=False, min_value=1, max_value=1024, label=_("CPU cores"))
    memory_gb = forms.FloatField(required=False, min_value=0.05, label=_("Memory (GB)"))
    disk_gb = forms.FloatField(required=False, min_value=0.001, label=_("Workspace disk (GB)"))
    gpus = forms.IntegerField(required=False, min_value=0, max_value=64, label=_("GPUs"))
    network = forms.BooleanField(required=False)
    timeout = forms.IntegerField(required=False, min_value=1)
    schedule_kind = forms.ChoiceField(choices=ScheduleKind.choices, initial=ScheduleKind.NOW)
    run_at = JSONDateTimeField(required=False, label=_("Run at"))
    repeat = forms.ChoiceField(choices=REPEAT_CHOICES, initial="interval", required=False)
    every = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": INTERVAL_HELP}
    )
    unit = forms.ChoiceField(
        choices=[(unit, UNIT_LABELS[unit]) for unit in MINUTES_IN], initial="days", required=False
    )
    cron = forms.CharField(max_length=100, required=False, label=_("Cron expression"))
    starts_at = JSONDateTimeField(required=False, label=_("Start"))
    ends_at = JSONDateTimeField(required=False, label=_("End"))
    on_overlap = forms.ChoiceField(choices=Overlap.choices, initial=Overlap.SKIP, required=False)

    def __init__(self, project, *args, pipeline: Pipeline | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.pipeline = pipeline
        self.fields["package"].queryset = MLPackage.objects.filter(project=project)
        datasets = Dataset.objects.filter(project=project)
        self.fields["input_dataset"].queryset = datasets
        self.fields["evaluation_dataset"].queryset = datasets

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        others = Pipeline.objects.filter(project=self.project, name=name)
        if self.pipeline is not None:
            others = others.exclude(id=self.pipeline.id)
        if others.exists():
            raise forms.ValidationError(
                _("The project already has a pipeline named %(name)s.") % {"name": name}
            )
        return name

    def clean_timeout(self) -> int | None:
        """Workers give up on a task after RUN_TIMEOUT (and a margin): a longer run would be
        lost rather than timed out."""
        timeout = self.cleaned_data["timeout"]
        if timeout is not None and timeout > settings.RUN_TIMEOUT:
            raise forms.ValidationError(
                _("A timeout can be at most %(seconds)s seconds, the service's RUN_TIMEOUT.")
                % {"seconds": settings.RUN_TIMEOUT}
            )
        return timeout

    def clean_parameters(self) -> dict[str, str]:
        return checked_parameters(self.cleaned_data["parameters"], DEFAULT_PARAMETERS)

    def clean_network(self) -> bool:
        wanted = self.cleaned_data["network"]
        if wanted and settings.RUN_NETWORK == "off":
            raise forms.ValidationError(
                _(
                    "Runs on this service have no network (RUN_NETWORK=off). The operator may "
                    "set RUN_NETWORK=gate to give runs that ask for it HTTPS to the Internet."
                )
            )
        return wanted

    def clean_gpus(self) -> int | None:
        gpus = self.cleaned_data["gpus"]
        return 1 if gpus is None and self.cleaned_data.get("gpu") else gpus

    def clean(self) -> dict:
        data = super().clean()
        kind, package = data.get("type"), data.get("package")
        if kind and package:
            data["package_version"] = self.version_for(package, data.get("version", ""), kind)
        if kind:
            self.check_datasets(kind, data)
        self.check_schedule(data)
        self.check_room(data)
        return data

    def check_room(self, data: dict) -> None:
        """Refused when workers have reported and none could ever take these resources:
        its runs would wait for ever. Before any worker reports, they wait for one."""
        names = ["cpus", "memory_gb", "disk_gb", "gpus"]
        if any(name in self.errors for name in names):
            return
        resources = Resources.with_defaults(*(data.get(name) for name in names))
        largest = Worker.objects.largest()
        if largest is None or Worker.objects.could_take(resources).exists():
            return
        too_much = {
            "cpus": resources.cpus > largest.cpus,
            "memory_gb": resources.memory_bytes > largest.memory_bytes,
            "gpus": resources.gpus > largest.gpus,
        }
        field = next((name for name, over in too_much.items() if over), None)
        self.add_error(
            field,
            _(
                "No worker could ever run this with %(resources)s: the largest seen, "
                "%(worker)s, has %(capacity)s."
            )
            % {
                "resources": resources.summary,
                "worker": largest.name,
                "capacity": largest.capacity,
            },
        )

    def check_schedule(self, data: dict) -> None:
        kind = data.get("schedule_kind")
        if kind == ScheduleKind.ONCE:
            self.check_future("run_at", data.get("run_at"), required=True)
        elif kind == ScheduleKind.RECURRING:
            if data.get("repeat") == "cron":
                data["interval_minutes"] = None
                self.check_cron(data.get("cron", ""))
            else:
                data["cron"] = ""
                data["interval_minutes"] = self.interval(data.get("every"), data.get("unit"))
            self.check_window(data.get("starts_at"), data.get("ends_at"))

    def check_future(self, field: str, moment, required: bool = False) -> None:
        if moment is None and required:
            self.add_error(field, _("Choose when to run it."))
        elif moment is not None and moment <= timezone.now():
            self.add_error(
                field, _("%(moment)s is in the past.") % {"moment": f"{moment:%Y-%m-%d %H:%M}"}
            )

    def check_cron(self, expression: str) -> None:
        if not expression.strip():
            self.add_error(
                "cron", _("Enter a cron expression, for example 0 3 * * * for 03:00 daily.")
            )
        elif len(expression.split()) != 5 or not croniter.is_valid(expression):
            self.add_error(
                "cron",
                _(
                    "%(expression)s is not a cron expression: it needs five fields "
                    "(minute hour day-of-month month day-of-week)."
                )
                % {"expression": repr(expression)},
            )

    def interval(self, every: int | None, unit: str | None) -> int | None:
        if every is None or not unit:
            if "every" not in self.errors:
                self.add_error("every", INTERVAL_HELP)
            return None
        minutes = every * MINUTES_IN[unit]
        if minutes > LONGEST_INTERVAL:
            self.add_error(
                "every",
                _("An interval can be at most 22 days; use a cron expression for rarer runs."),
            )
        return minutes

    def check_window(self, starts_at, ends_at) -> None:
        self.check_future("ends_at", ends_at)
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The end must come after the start."))

    def version_for(self, package, label: str, kind: str):
        numbers = PackageVersion.numbers_of(label)
        version = None
        if numbers is not None:
            version = package.versions.filter(major=numbers[0], minor=numbers[1]).first()
        if version is None:
            self.add_error(
                "version",
                _("%(package)s has no version %(label)s.")
                % {"package": package.name, "label": repr(label)},
            )
        elif not version.supports(kind):
            needed = ", ".join(sorted(NEEDED_METHODS[PipelineType(kind)]))
            self.add_error(
                "version",
                CANNOT_RUN[PipelineType(kind)]
                % {"version": f"{package.name} {version.label}", "methods": needed},
            )
        return version

    def check_datasets(self, kind: str, data: dict) -> None:
        if kind in NEEDS_INPUT and not data.get("input_dataset"):
            self.add_error("input_dataset", NEEDS_INPUT_DATASET[PipelineType(kind)])
        if kind == PipelineType.EVALUATION and not data.get("evaluation_dataset"):
            self.add_error(
                "evaluation_dataset", _("An evaluation pipeline needs an evaluation dataset.")
            )
        for field in ["input", "evaluation"]:
            dataset = data.get(f"{field}_dataset")
            if dataset is not None:
                data[f"{field}_path"] = self.folder_with_files(
                    dataset, data.get(f"{field}_path") or "", field
                )

    def folder_with_files(self, dataset, path: str, field: str) -> str:
        folder = path.strip("/")
        if not dataset.files_under(folder).exists():
            where = f"{dataset.name}/{folder}" if folder else dataset.name
            self.add_error(
                f"{field}_path",
                _("%(folder)s has no files: choose a folder with data.") % {"folder": where},
            )
        return folder


class RunForm(forms.Form):
    """One run of a pipeline, with parameters that override the pipeline's for this run only."""

    parameters = forms.JSONField(required=False)

    def __init__(self, pipeline, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pipeline = pipeline

    def clean_parameters(self) -> dict[str, str]:
        return checked_parameters(self.cleaned_data["parameters"], self.pipeline.all_parameters)


def checked_parameters(raw, base: dict[str, str]) -> dict[str, str]:
    """The parameters named in `raw` over those of `base`, as the run will see them."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise forms.ValidationError(_("Parameters must be an object of names and values."))
    errors = [
        parameter_error(_("%(parameter)r is not a valid variable name."), name)
        for name in raw
        if not ENV_NAME.match(name)
    ]
    errors += [
        parameter_error(_("%(parameter)s must be a string or a number."), name)
        for name, value in raw.items()
        if not plain(value)
    ]
    if errors:
        raise forms.ValidationError(errors)
    parameters = {**base, **{name: str(value) for name, value in raw.items()}}
    check_artifacts_directory(parameters["artifacts_directory"])
    if parameters["save_training_data"].lower() not in {"true", "false"}:
        raise parameter_error(_("%(parameter)s must be true or false."), "save_training_data")
    return parameters


def parameter_error(message, name: str) -> forms.ValidationError:
    """An error that names its parameter, so that a screen can show it on that row."""
    return forms.ValidationError(message, code="parameter", params={"parameter": name})


def plain(value) -> bool:
    """A value an environment variable can hold: text without NUL, a number or a boolean."""
    return isinstance(value, int | float) or (isinstance(value, str) and "\x00" not in value)


def check_artifacts_directory(value: str) -> None:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise parameter_error(
            _("%(parameter)s must be a relative folder inside the run's workspace."),
            "artifacts_directory",
        )
    if not path.parts or path.parts[0] in RESERVED_NAMES:
        raise forms.ValidationError(
            _(
                "artifacts_directory %(value)s is reserved: the workspace itself (.) and "
                "%(reserved)s, with what is inside them, hold the run's package, its data and "
                "the service's own files. Choose a folder of its own, such as artifacts."
            ),
            code="parameter",
            params={
                "parameter": "artifacts_directory",
                "value": repr(value),
                "reserved": ", ".join(RESERVED_NAMES),
            },
        )
