"""Where a version came from and where it went.

The chain reads: dataset folder -> snapshot -> run -> version -> runs that used
that version. A run is reached through the reverse relations of PackageVersion,
so this module needs nothing from the pipelines app.
"""

from dataclasses import dataclass

from packages.models import PackageVersion

USED_BY_SHOWN = 20


@dataclass
class Lineage:
    run: object | None  # the run that made `version`, or the run the page shows
    version: PackageVersion | None  # the version that run made
    trained_from: PackageVersion | None  # the version the run started from
    used_by: list
    used_by_count: int

    @property
    def more_used_by(self) -> int:
        return self.used_by_count - len(self.used_by)

    @property
    def data(self) -> list[tuple[object, str]]:
        return data_of(self.run) if self.run else []


def data_of(run) -> list[tuple[object, str]]:
    """(dataset, folder) the run read: its input, then its evaluation data."""
    pairs = [(run.input_dataset, run.input_path), (run.evaluation_dataset, run.evaluation_path)]
    return [(dataset, folder) for dataset, folder in pairs if dataset is not None]


def runs_using(version: PackageVersion | None) -> tuple[list, int]:
    if version is None:
        return [], 0
    runs = version.runs.order_by("-created_at", "-id")
    return list(runs[:USED_BY_SHOWN]), runs.count()


def lineage_of_run(run) -> Lineage:
    used_by, count = runs_using(run.produced_version)
    return Lineage(run, run.produced_version, run.package_version, used_by, count)


def lineage_of_version(version: PackageVersion) -> Lineage:
    used_by, count = runs_using(version)
    return Lineage(version.trained_by, version, version.parent, used_by, count)


@dataclass(frozen=True)
class ScoreChange:
    parent: float
    score: float

    @property
    def difference(self) -> float:
        return self.score - self.parent


def score_change(version: PackageVersion) -> ScoreChange | None:
    """How a trained version's score compares with the version it was trained from."""
    parent = version.parent
    if version.score is None or parent is None or parent.score is None:
        return None
    return ScoreChange(parent=parent.score, score=version.score)
