from django import forms
from django.utils.translation import gettext_lazy as _

from aicenter.validators import name_characters


class DatasetForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, validators=[name_characters])
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list:
        items = data if isinstance(data, list | tuple) else [data] if data else []
        if not items and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class FilesUploadForm(forms.Form):
    """Files, each with its path relative to the target folder.

    Django keeps only the last part of a file's name, so a folder upload sends
    each file's relative path in `paths`, in the order of the files.
    """

    path = forms.CharField(required=False, widget=forms.HiddenInput)
    files = MultipleFileField(error_messages={"required": _("Choose at least one file.")})
    paths = forms.Field(required=False, widget=forms.MultipleHiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        files, paths = data.get("files") or [], data.get("paths") or []
        if paths and len(paths) != len(files):
            self.add_error(
                "paths", _("Send one relative path per file, in the order of the files.")
            )
        data["items"] = list(zip(paths or [file.name for file in files], files, strict=False))
        return data


class ZipUploadForm(forms.Form):
    path = forms.CharField(required=False, widget=forms.HiddenInput)
    archive = forms.FileField(
        label=_("Zip archive"),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )


class FolderForm(forms.Form):
    path = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Folder name"), max_length=255)
