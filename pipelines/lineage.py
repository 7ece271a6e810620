"""Where a run's data came from and where its version went.

The chain reads: dataset folder -> snapshot -> run -> version -> runs that used that version.
A version's page shows the same chain through the run that made it, by loading the tag in
pipelines/templatetags/runs.py: the packages app does not import this one.
"""

from dataclasses import dataclass

from datasets.models import Dataset
from packages.models import PackageVersion
from pipelines.models import Run

USED_BY_SHOWN = 20


@dataclass
class Lineage:
    run: Run | None  # the run that made `version`, or the run the page shows
    version: PackageVersion | None  # the version that run made
    trained_from: PackageVersion | None  # the version the run started from
    used_by: list[Run]
    used_by_count: int

    @property
    def more_used_by(self) -> int:
        return self.used_by_count - len(self.used_by)

    @property
    def data(self) -> list[tuple[Dataset, str]]:
        return data_of(self.run) if self.run else []


def data_of(run: Run) -> list[tuple[Dataset, str]]:
    """(dataset, folder) the run read: its input, then its evaluation data."""
    pairs = [(run.input_dataset, run.input_path), (run.evaluation_dataset, run.evaluation_path)]
    return [(dataset, folder) for dataset, folder in pairs if dataset is not None]


def runs_using(version: PackageVersion | None) -> tuple[list[Run], int]:
    if version is None:
        return [], 0
    runs = Run.objects.filter(package_version=version).order_by("-created_at", "-id")
    return list(runs[:USED_BY_SHOWN]), runs.count()


def lineage_of_run(run: Run) -> Lineage:
    used_by, count = runs_using(run.produced_version)
    return Lineage(run, run.produced_version, run.package_version, used_by, count)


def lineage_of_version(version: PackageVersion) -> Lineage:
    used_by, count = runs_using(version)
    return Lineage(version.trained_by, version, version.parent, used_by, count)
