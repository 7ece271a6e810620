"""Data for the benchmarks: folders of random files, and datasets made from them."""

import contextlib
import os
from itertools import batched
from pathlib import Path

from django.core.files import File

MB = 1024 * 1024
UPLOAD_BATCH = 200  # files open at once while a dataset is uploaded
PER_FOLDER = 100


def random_files(folder: Path, count: int, size: int) -> list[tuple[str, Path]]:
    """`count` files of `size` random bytes, a hundred to a sub-folder: (relative path, path)."""
    files = []
    for index in range(count):
        relative = f"part-{index // PER_FOLDER:03}/file-{index:05}.bin"
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        files.append((relative, path))
    return files


def dataset_of(project, name: str, files: list[tuple[str, Path]]):
    """A dataset holding the files, uploaded as a user's folder upload is."""
    from datasets.ingest import upload_files
    from datasets.tree import create_dataset

    dataset = create_dataset(project, name=name)
    for batch in batched(files, UPLOAD_BATCH):
        with contextlib.ExitStack() as handles:
            opened = [
                (relative, File(handles.enter_context(open(path, "rb")), name=path.name))
                for relative, path in batch
            ]
            upload_files(dataset, "", opened)
    return dataset
