"""The score-by-version line chart of a package, drawn as SVG on the server: a value axis
with round ticks, the versions along the bottom, and each point's score on hover (written
beside the points while there are few enough to read)."""

from collections.abc import Iterable
from dataclasses import dataclass

from aicenter.charts import Framed, Scale, Tick, frame, label, nice_ticks

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 20, 36
# Beyond these, version labels are thinned out and scores are left to the hover.
LABELLED_VERSIONS = 12
WRITTEN_SCORES = 12


@dataclass(frozen=True)
class ScorePoint:
    label: str
    score: float
    x: float
    y: float
    labelled: bool  # whether its version is written under the axis

    @property
    def score_text(self) -> str:
        return label(self.score)


@dataclass(frozen=True)
class ScoreChart(Framed):
    points: list[ScorePoint]
    y_ticks: list[Tick]
    write_scores: bool

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x},{point.y}" for point in self.points)


def score_chart(versions: Iterable) -> ScoreChart | None:
    """The versions that have a score, oldest first; None when none has."""
    scored = [(version.label, version.score) for version in versions if version.score is not None]
    if not scored:
        return None
    scores = [score for _, score in scored]
    ticks = nice_ticks(min(scores), max(scores))
    y = Scale(min(scores + ticks), max(scores + ticks), HEIGHT - BOTTOM, TOP)
    # One version alone sits in the middle; more spread from edge to edge.
    x = Scale(0, max(len(scored) - 1, 0), LEFT + 12, WIDTH - RIGHT - 12)
    every = -(-len(scored) // LABELLED_VERSIONS)  # a label every this many versions
    last = len(scored) - 1
    points = [
        ScorePoint(name, score, x(index), y(score), (last - index) % every == 0)
        for index, (name, score) in enumerate(scored)
    ]
    return ScoreChart(
        points,
        y.ticks(ticks),
        write_scores=len(points) <= WRITTEN_SCORES,
        **frame((WIDTH, HEIGHT), (LEFT, RIGHT, TOP, BOTTOM)),
    )
