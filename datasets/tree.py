"""Changing a dataset's tree: datasets, folders, deletions, and the rule that keeps it a tree."""

import contextlib
from collections.abc import Iterable, Iterator
from itertools import batched

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aicenter.models import EventKind, Project, record_event
from aicenter.wording import Said, say
from datasets.models import BATCH, Dataset, DatasetFolder, validate_new_name
from datasets.paths import ancestors, normalise_path

# The Activity's lines of a dataset's changes, worded for each reader.
REMOVED_ONE = gettext_noop("%(path)s: removed with %(count)s file.")
REMOVED = gettext_noop("%(path)s: removed with %(count)s files.")
ADDED_ONE = gettext_noop("%(where)s: %(count)s file added, %(replaced)s replaced.")
ADDED = gettext_noop("%(where)s: %(count)s files added, %(replaced)s replaced.")


@contextlib.contextmanager
def problems_of(field: str) -> Iterator[None]:
    """Files a ValidationError's messages under `field`, the input a person sent."""
    try:
        yield
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise
        raise ValidationError({field: error.messages}) from None


def create_dataset(project: Project, *, name: str, description: str = "", user=None) -> Dataset:
    with problems_of("name"):
        validate_new_name(project, name)
    return Dataset.objects.create(
        project=project, name=name, description=description, created_by=user
    )


def delete_dataset(dataset: Dataset) -> None:
    """Remove the dataset and its rows; its contents go with the next garbage collection."""
    dataset.delete()


def locked(dataset: Dataset) -> None:
    """Inside a transaction: writers of one dataset take turns from here to the commit."""
    Dataset.objects.select_for_update().filter(id=dataset.id).first()


def existing_files(dataset: Dataset, paths: Iterable[str]) -> set[str]:
    found = set()
    for batch in batched(sorted(paths), BATCH):
        found.update(dataset.files.filter(path__in=batch).values_list("path", flat=True))
    return found


def tree_problems(dataset: Dataset, files: Iterable[str], folders: Iterable[str] = ()) -> list[str]:
    """Where a file and a folder would share a name, within the change or with the tree."""
    new_files, new_folders = set(files), set(folders)
    new_folders |= {above for path in new_files | new_folders for above in ancestors(path)}
    both = _("%(path)s: the upload has both a file and a folder with this name.")
    problems = [both % {"path": path} for path in sorted(new_files & new_folders)]
    file = _("%(path)s: a file has this name, so it cannot be a folder.")
    problems += [file % {"path": path} for path in sorted(existing_files(dataset, new_folders))]
    folder = _("%(path)s: a folder has this name, so it cannot be a file.")
    problems += [folder % {"path": path} for path in sorted(new_files & dataset.folder_paths())]
    return problems


def check_tree(dataset: Dataset, files: Iterable[str], folders: Iterable[str] = ()) -> None:
    if problems := tree_problems(dataset, files, folders):
        raise ValidationError(problems)


def create_folder(dataset: Dataset, path: str, user=None) -> DatasetFolder:
    """An empty folder at `path` (its parents appear with it)."""
    with problems_of("path"):
        path = normalise_path(path)
        with transaction.atomic():
            locked(dataset)
            if dataset.has_folder(path):
                raise ValidationError(_("%(path)s: the folder exists already.") % {"path": path})
            check_tree(dataset, [], [path])
            folder = DatasetFolder.objects.create(dataset=dataset, path=path)
            dataset.touch()
    created = say(gettext_noop("%(folder)s: folder created."), folder=f"{dataset.name}/{path}")
    record_change(dataset, created, user)
    return folder


def record_change(dataset: Dataset, message: Said, user=None) -> None:
    link = dataset.get_absolute_url()
    record_event(dataset.project_id, EventKind.DATASET_CHANGED, message, user, link)


def delete_path(dataset: Dataset, path: str, user=None) -> int:
    """Remove the file at `path`, or the folder and everything below it; the files removed."""
    with transaction.atomic():
        locked(dataset)
        files = dataset.files.filter(path=path)
        if not files.exists():
            files = dataset.files_under(path)
            dataset.folders.under(path, inclusive=True).delete()
        removed, _ = files.delete()
        dataset.touch()
    pattern = REMOVED_ONE if removed == 1 else REMOVED
    record_change(dataset, say(pattern, path=f"{dataset.name}/{path}", count=removed), user)
    return removed
