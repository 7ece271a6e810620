"""Loading the example datasets of examples/datasets into a project."""

from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction

from datasets.ingest import upload_files
from datasets.models import Dataset
from datasets.tree import create_dataset

EXAMPLES = Path(settings.BASE_DIR) / "examples" / "datasets"
DESCRIPTIONS = {
    "flowers": "150 measured flowers of three species, split into train/ and test/.",
}


def load_example_datasets(project, user) -> list[str]:
    """Make each example dataset the project does not have yet; the names loaded."""
    loaded = []
    for folder in sorted(path for path in EXAMPLES.iterdir() if path.is_dir()):
        if Dataset.objects.filter(project=project, name=folder.name).exists():
            continue
        with transaction.atomic(), ExitStack() as files:
            dataset = create_dataset(
                project, name=folder.name, description=DESCRIPTIONS.get(folder.name, ""), user=user
            )
            upload_files(
                dataset,
                "",
                [
                    (
                        path.relative_to(folder).as_posix(),
                        File(files.enter_context(open(path, "rb"))),
                    )
                    for path in sorted(folder.rglob("*"))
                    if path.is_file()
                ],
            )
        loaded.append(folder.name)
    return loaded
