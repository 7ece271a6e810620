"""Curves: one path measured at sizes a factor of ten apart against its baseline at each size,
the growth exponent of its time, its table, its JSON and its chart."""

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

LINEAR = "linear"  # data paths: exponent <= 1.1 and ratio <= 1.2 at every size
FLAT = "flat"  # pages and the log tail: exponent <= 0.2 and a constant number of queries
STEADY = "steady"  # a burst: its overhead per run does not grow with the burst
LIMITS = {LINEAR: 1.1, FLAT: 0.2, STEADY: 1.1}
RATIO_LIMIT = 1.2
TARGET_TEXT = {
    LINEAR: "exponent <= 1.1, ratio <= 1.2",
    FLAT: "exponent <= 0.2, queries constant",
    STEADY: "overhead per run not growing",
}


@dataclass
class Point:
    size: int
    samples: list[float]
    baseline_samples: list[float]
    queries: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_samples)

    @property
    def ratio(self) -> float:
        return self.median / self.baseline_median


@dataclass
class Curve:
    path: str
    unit: str  # what a size counts: files, runs, lines
    baseline: str
    target: str
    points: list[Point] = field(default_factory=list)

    @property
    def exponent(self) -> float:
        return slope([p.size for p in self.points], [p.median for p in self.points])

    @property
    def overheads(self) -> list[float]:
        """Per unit of size: the service's time beyond its baseline's."""
        return [(p.median - p.baseline_median) / p.size for p in self.points]

    @property
    def queries_constant(self) -> bool:
        counts = {p.queries for p in self.points}
        return None not in counts and len(counts) == 1

    @property
    def met(self) -> bool:
        if self.target == LINEAR:
            ratios_met = all(p.ratio <= RATIO_LIMIT for p in self.points)
            return self.exponent <= LIMITS[LINEAR] and ratios_met
        if self.target == FLAT:
            return self.exponent <= LIMITS[FLAT] and self.queries_constant
        # Overhead per run at the largest burst no more than at the smaller ones (noise: 20 %).
        first, *_, last = self.overheads
        return self.exponent <= LIMITS[STEADY] and last <= max(first, 0.0) * 1.2 + 0.01

    def as_json(self) -> dict:
        points = [
            {
                "size": p.size,
                "median": p.median,
                "baseline_median": p.baseline_median,
                "ratio": p.ratio,
                "queries": p.queries,
                "samples": p.samples,
                "baseline_samples": p.baseline_samples,
            }
            for p in self.points
        ]
        figures = {"path": self.path, "unit": self.unit, "baseline": self.baseline}
        verdict = {"target": TARGET_TEXT[self.target], "exponent": self.exponent, "met": self.met}
        verdict["overhead_per_unit"] = self.overheads
        return figures | verdict | {"points": points}


def slope(sizes: list[float], times: list[float]) -> float:
    """Least squares slope of log time over log size."""
    xs, ys = [math.log(size) for size in sizes], [math.log(time) for time in times]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.3g} s"


def cell(point: Point) -> str:
    queries = f", {point.queries} q" if point.queries is not None else ""
    return f"{point.size:,}: {seconds(point.median)} / {point.ratio:.2f}x{queries}"


def table(curves: list[Curve]) -> str:
    """A Markdown table: each size's median, its ratio to the baseline (and queries)."""
    header = ["path", "baseline", "smallest", "middle", "largest", "exponent", "target"]
    lines = [header, ["---"] * len(header)]
    for curve in curves:
        verdict = "met" if curve.met else "MISSED"
        lines.append(
            [
                curve.path,
                curve.baseline,
                *(cell(point) for point in curve.points),
                f"{curve.exponent:.2f}",
                f"{TARGET_TEXT[curve.target]}: {verdict}",
            ]
        )
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def write_json(path: Path, curves: list[Curve], context: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**context, "curves": [curve.as_json() for curve in curves]}
    path.write_text(json.dumps(document, indent=2) + "\n")
