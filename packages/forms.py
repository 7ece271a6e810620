from django import forms
from django.utils.translation import gettext_lazy as _

from aicenter.kept import KeepsFiles
from aicenter.validators import name_characters
from packages.models import PYTHON_VERSIONS, MLPackage, not_a_keyword
from packages.upload import zip_problems

ZIP_INPUT = forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"})


class PackageUploadForm(KeepsFiles):
    name = forms.CharField(
        label=_("Name"), max_length=80, validators=[name_characters, not_a_keyword]
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    python_version = forms.ChoiceField(
        label=_("Python version"), choices=PYTHON_VERSIONS, initial="3.12", required=False
    )
    file = forms.FileField(label=_("Package zip"), widget=ZIP_INPUT)

    kept_fields = ("file",)

    def __init__(self, project, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if MLPackage.objects.filter(project=self.project, name=name).exists():
            raise forms.ValidationError(
                _("The project already has a package named %(name)s.") % {"name": name}
            )
        return name

    def clean_python_version(self) -> str:
        return self.cleaned_data["python_version"] or "3.12"

    def clean(self) -> dict:
        data = super().clean()
        # Refused already: the zip is checked here so the answer lists its problems too.
        # A form that passes leaves the zip to upload_package, which checks it once.
        if self.errors and data.get("file") and (problems := zip_problems(data["file"])):
            self.add_error("file", problems)
        return data


class VersionUploadForm(KeepsFiles):
    file = forms.FileField(label=_("Package zip"), widget=ZIP_INPUT)

    kept_fields = ("file",)
