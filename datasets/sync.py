"""Comparing a local folder with a dataset's folder, so a client sends only what differs."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from datasets.models import Dataset
from datasets.paths import join, normalise_folder, normalise_path

# Files in one call: their paths (at most 1,024 bytes each) stay under the body limit.
MOST_LISTED = 2000


@dataclass(frozen=True)
class Comparison:
    held: list[str]  # the listed paths whose content the dataset holds there already
    others: list[str]  # the dataset's files below the folder that the list does not name


def compare_folder(dataset: Dataset, folder: str, listed: dict[str, str]) -> Comparison:
    """`listed` maps paths relative to `folder` to their sha256; the answer's paths are too."""
    folder = normalise_folder(folder)
    cut = len(folder) + 1 if folder else 0
    stored = dict(dataset.files_under(folder).values_list("path", "sha256"))
    held, named = [], set()
    for path, sha256 in listed.items():
        full = join(folder, path)
        if full not in stored:  # a stored path is in its normal form already
            full = stored_form(full)
        named.add(full)
        if full is not None and stored.get(full) == sha256.lower():
            held.append(path)
    others = sorted(path[cut:] for path in stored.keys() - named)
    return Comparison(held=sorted(held), others=others)


def stored_form(path: str) -> str | None:
    try:
        return normalise_path(path)
    except ValidationError:
        return None  # a path that could not be stored is held nowhere
