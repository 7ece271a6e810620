"""Builders for runs: datasets with files, pipelines and their runs."""

import hashlib

from aicenter.store import get_store
from datasets.models import Blob, Dataset, DatasetFile
from datasets.paths import parent
from packages.examples import EXAMPLES, zip_folder
from packages.upload import upload_package
from pipelines.models import DEFAULT_PARAMETERS
from pipelines.start import create_pipeline
from tests.factories import package_zip, uploaded


def dataset_with(project, name: str, files: dict[str, bytes]) -> Dataset:
    """A dataset holding `files`, their bytes in the store once per content."""
    dataset = Dataset.objects.create(project=project, name=name)
    for path, content in files.items():
        sha256 = hashlib.sha256(content).hexdigest()
        blob, created = Blob.objects.get_or_create(sha256=sha256, defaults={"size": len(content)})
        if created:
            get_store().put_bytes(blob.key, content)
        DatasetFile.objects.create(
            dataset=dataset, path=path, folder=parent(path), size=len(content), sha256=blob
        )
    return dataset


def example_version(project, user, name: str = "flowers-stdlib"):
    return upload_package(
        project,
        name=name,
        description="",
        python_version="3.12",
        file=uploaded(zip_folder(EXAMPLES / name)),
        user=user,
    )


def package_version_with(project, user, train_py: str, name: str = "custom", **files):
    return upload_package(
        project,
        name=name,
        description="",
        python_version="3.12",
        file=uploaded(package_zip(**{"train.py": train_py, **files})),
        user=user,
    )


def training_pipeline(project, user, version, data, **fields):
    """A training pipeline started now; its run stays scheduled until a worker takes it."""
    definition = {
        "name": "nightly",
        "type": "training",
        "package_version": version,
        "input_dataset": data,
        "parameters": dict(DEFAULT_PARAMETERS),
        **fields,
    }
    return create_pipeline(project, definition, user)
