"""Reaching a dataset and its entries inside a project the caller may see; else 404."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from datasets.models import Dataset, DatasetFile, Folder
from datasets.paths import normalise_folder, normalise_path


def dataset_in(project, dataset_id: int, queryset=None) -> Dataset:
    queryset = Dataset.objects.all() if queryset is None else queryset
    dataset = get_object_or_404(queryset.filter(project=project), id=dataset_id)
    dataset.project = project
    return dataset


def stored_path(raw: str, folder: bool = False) -> str:
    """A path from a URL in its stored form; one that could not be stored names nothing."""
    try:
        return normalise_folder(raw) if folder else normalise_path(raw)
    except ValidationError:
        raise Http404(_("No such file or folder.")) from None


def file_in(dataset: Dataset, path: str) -> DatasetFile:
    file = get_object_or_404(dataset.files, path=stored_path(path))
    file.dataset = dataset
    return file


def folder_in(dataset: Dataset, path: str) -> Folder:
    path = stored_path(path, folder=True)
    if not dataset.has_folder(path):
        raise Http404(_("No such folder."))
    return dataset.folder(path)


def entry_in(dataset: Dataset, path: str) -> str:
    """The stored path of the file or folder at `path`."""
    path = stored_path(path)
    if not (dataset.files.filter(path=path).exists() or dataset.has_folder(path)):
        raise Http404(_("No such file or folder."))
    return path
