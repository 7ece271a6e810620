"""Repeated timings, their summary against a baseline, and the table and JSON they make."""

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """A limit on the median ("median") or on the ratio to the baseline ("ratio")."""

    on: str
    limit: float
    text: str

    def met_by(self, row: "Row") -> bool:
        value = row.ratio if self.on == "ratio" else row.median
        return value is not None and value <= self.limit


@dataclass
class Row:
    benchmark: str
    measure: str
    unit: str
    samples: list[float]
    baseline: str = ""
    baseline_samples: list[float] = field(default_factory=list)
    target: Target | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline_samples) if self.baseline_samples else None

    @property
    def ratio(self) -> float | None:
        base = self.baseline_median
        return self.median / base if base else None

    @property
    def met(self) -> bool | None:
        return self.target.met_by(self) if self.target else None

    def as_json(self) -> dict:
        figures = asdict(self)
        figures["target"] = asdict(self.target) if self.target else None
        stats = {"median": self.median, "p95": self.p95, "min": min(self.samples)}
        stats |= {"max": max(self.samples), "baseline_median": self.baseline_median}
        return figures | stats | {"ratio": self.ratio, "met": self.met}


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def paired(repeats: int, prepare, service, baseline) -> tuple[list[float], list[float]]:
    """Service and baseline timed in turns, each after `prepare`, each going first every other
    repeat, so that noise and warm-up fall on both."""
    service_times: list[float] = []
    baseline_times: list[float] = []
    turns = [(service, service_times), (baseline, baseline_times)]
    for repeat in range(repeats):
        for action, times in turns if repeat % 2 == 0 else reversed(turns):
            prepare()
            times.append(timed(action))
    return service_times, baseline_times


COLUMNS = ["benchmark", "measure", "median", "p95", "min", "max", "baseline", "ratio", "target"]


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if unit == "s" and abs(value) < 1:
        return f"{value * 1000:.0f} ms"
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def cells(row: Row) -> list[str]:
    base = f"{number(row.baseline_median, row.unit)} {row.baseline}".strip()
    verdict = {True: "met", False: "MISSED", None: ""}[row.met]
    target = f"{row.target.text}: {verdict}" if row.target else ""
    return [
        row.benchmark,
        row.measure,
        number(row.median, row.unit),
        number(row.p95, row.unit),
        number(min(row.samples), row.unit),
        number(max(row.samples), row.unit),
        base,
        number(row.ratio, "x") if row.ratio is not None else "",
        target,
    ]


def table(rows: list[Row]) -> str:
    """A Markdown table: readable in a terminal, pasted as is into the README."""
    lines = [COLUMNS, ["---"] * len(COLUMNS), *(cells(row) for row in rows)]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def write_json(path: Path, rows: list[Row], context: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**context, "rows": [row.as_json() for row in rows]}
    path.write_text(json.dumps(document, indent=2) + "\n")
