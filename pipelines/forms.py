from pathlib import PurePosixPath

from django import forms

from datasets.models import Dataset
from packages.contract import NEEDED_METHODS, PipelineType
from packages.models import MLPackage
from pipelines.models import DEFAULT_PARAMETERS, ENV_NAME, ScheduleKind

NEEDS_INPUT = {PipelineType.TRAINING, PipelineType.FULL}


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
    timeout = forms.IntegerField(required=False, min_value=1)
    schedule_kind = forms.ChoiceField(choices=ScheduleKind.choices, initial=ScheduleKind.NOW)

    def __init__(self, project, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["package"].queryset = MLPackage.objects.filter(project=project)
        datasets = Dataset.objects.filter(project=project)
        self.fields["input_dataset"].queryset = datasets
        self.fields["evaluation_dataset"].queryset = datasets

    def clean_parameters(self) -> dict[str, str]:
        raw = self.cleaned_data["parameters"] or {}
        if not isinstance(raw, dict):
            raise forms.ValidationError("Parameters must be an object of names and values.")
        errors = [
            f"{name!r} is not a valid variable name." for name in raw if not ENV_NAME.match(name)
        ]
        if errors:
            raise forms.ValidationError(errors)
        parameters = {**DEFAULT_PARAMETERS, **{name: str(value) for name, value in raw.items()}}
        check_artifacts_directory(parameters["artifacts_directory"])
        if parameters["save_training_data"].lower() not in {"true", "false"}:
            raise forms.ValidationError("save_training_data must be true or false.")
        return parameters

    def clean_schedule_kind(self) -> str:
        kind = self.cleaned_data["schedule_kind"]
        if kind != ScheduleKind.NOW:
            raise forms.ValidationError("Only runs that start now can be created so far.")
        return kind

    def clean(self) -> dict:
        data = super().clean()
        kind, package = data.get("type"), data.get("package")
        if kind and package:
            data["package_version"] = self.version_for(package, data.get("version", ""), kind)
        if kind:
            self.check_datasets(kind, data)
        return data

    def version_for(self, package, label: str, kind: str):
        major, _, minor = label.partition(".")
        version = None
        if major.isdigit() and minor.isdigit():
            version = package.versions.filter(major=int(major), minor=int(minor)).first()
        if version is None:
            self.add_error("version", f"{package.name} has no version {label!r}.")
        elif not version.supports(kind):
            needed = ", ".join(sorted(NEEDED_METHODS[PipelineType(kind)]))
            self.add_error(
                "version",
                f"{package.name} {version.label} cannot run {kind} pipelines: "
                f"they need {needed} in train.py's Main.",
            )
        return version

    def check_datasets(self, kind: str, data: dict) -> None:
        if kind in NEEDS_INPUT and not data.get("input_dataset"):
            self.add_error("input_dataset", f"A {kind} pipeline needs an input dataset.")
        if kind == PipelineType.EVALUATION and not data.get("evaluation_dataset"):
            self.add_error(
                "evaluation_dataset", "An evaluation pipeline needs an evaluation dataset."
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
            self.add_error(f"{field}_path", f"{where} has no files: choose a folder with data.")
        return folder


def check_artifacts_directory(value: str) -> None:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise forms.ValidationError(
            "artifacts_directory must be a relative folder inside the run's workspace."
        )
