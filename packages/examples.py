"""Loading the example packages of examples/packages into a project."""

import io
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from packages.models import MLPackage
from packages.upload import upload_package

EXAMPLES = Path(settings.BASE_DIR) / "examples" / "packages"


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def load_example_packages(project, user) -> list[str]:
    """Upload each example package the project does not have yet; the names loaded."""
    loaded = []
    for folder in sorted(path for path in EXAMPLES.iterdir() if path.is_dir()):
        if MLPackage.objects.filter(project=project, name=folder.name).exists():
            continue
        upload_package(
            project,
            name=folder.name,
            description=(folder / "train.py").read_text().split('"""')[1].strip(),
            python_version="3.12",
            file=SimpleUploadedFile(f"{folder.name}.zip", zip_folder(folder)),
            user=user,
        )
        loaded.append(folder.name)
    return loaded
