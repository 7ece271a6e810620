"""How a trained version's score compares with the version it was trained from.

The rest of a version's lineage (the data and the run that made it, the runs that used it)
is about runs: pipelines/lineage.py builds it, and the version page loads it as a tag of
the pipelines app.
"""

from dataclasses import dataclass

from packages.models import PackageVersion


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
