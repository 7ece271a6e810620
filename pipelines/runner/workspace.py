"""A fresh folder per run on the worker, removed when the run ends."""

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def create(cls, run_id: int) -> "Workspace":
        root = Path(settings.WORKER_DIR) / "runs" / f"{run_id}-{uuid.uuid4().hex[:8]}"
        workspace = cls(root)
        for folder in [
            workspace.package,
            workspace.data,
            workspace.test_data,
            workspace.home,
            workspace.tmp,
            workspace.training_split,
            workspace.evaluation_split,
        ]:
            folder.mkdir(parents=True)
        return workspace

    @property
    def package(self) -> Path:
        return self.root / "package"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def test_data(self) -> Path:
        return self.root / "test_data"

    @property
    def training_split(self) -> Path:
        return self.root / "split" / "training"

    @property
    def evaluation_split(self) -> Path:
        return self.root / "split" / "evaluation"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def spec(self) -> Path:
        return self.root / "spec.json"

    @property
    def result(self) -> Path:
        return self.root / "result.json"

    def inside(self, relative: str) -> Path:
        """A path the user named, which must stay inside the workspace."""
        path = (self.root / relative).resolve()
        if path != self.root and self.root.resolve() not in path.parents:
            raise ValueError(f"{relative!r} leaves the run's workspace.")
        return path

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def regular_files(folder: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, path) of every regular file; links are never followed."""
    found = []
    for top, _, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(top) / name
            if path.is_file() and not path.is_symlink():
                found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)
