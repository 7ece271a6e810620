"""The curves of several runs on one chart per metric they share, drawn on the server as SVG.

A metric is charted when at least two of the runs reported it. The lines of a chart share its
axes, so that curves compare at a glance; each line's colour is a CSS class named for its
column (series-0, series-1, ...), which keeps the strict content security policy. Lines are
reduced as on the Metrics tab (pipelines/charts.py), to fewer points the more lines a chart
holds, so a chart costs the browser about as much as one of a single run.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Protocol

from django.db.models import Count, F, Max, Min, QuerySet
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from aicenter.charts import Framed, Scale, Tick, frame, label, nice_ticks
from pipelines.charts import (
    BOTTOM,
    CHART_POINTS,
    CHARTED_METRICS,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Point,
    breaks_of,
    line_path,
    lttb,
)
from pipelines.models import Metric, MetricPoint, Run

# A line keeps at least this many points, however many lines share its chart.
LINE_POINTS = 200
# A run's line of more points than this is read as its envelope over SLICES slices of steps.
LONG_LINE = 20_000
SLICES = 1000
MOST_GAPS = 10_000


class Named(Protocol):
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Series:
    """One run's points of a metric, sorted by step; a value None is a gap."""

    index: int
    title: str
    points: list[tuple[int, float | None]]

    def shown(self, most: int) -> list[Point]:
        return lttb([(s, v) for s, v in self.points if v is not None], most)

    @property
    def gaps(self) -> list[int]:
        return [step for step, value in self.points if value is None]


@dataclass(frozen=True)
class Line:
    index: int
    title: str
    path: str
    dot_marks: SafeString


@dataclass(frozen=True)
class Overlay(Framed):
    name: str
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def shared_metrics(runs: Sequence[Run]) -> list[str]:
    """The names of the metrics at least two of the runs reported, the first CHARTED_METRICS."""
    names = (
        Metric.objects.filter(run__in=runs)
        .values("name")
        .annotate(runs=Count("run_id", distinct=True))
        .filter(runs__gte=2)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return list(names[:CHARTED_METRICS])


def points_by_run(runs: Sequence[Run], name: str) -> dict[int, list[tuple[int, float | None]]]:
    """Every run's points of one metric: short lines whole, in one query, and long ones
    thinned in the database (envelope)."""
    metrics = Metric.objects.filter(run__in=runs, name=name)
    lengths = list(metrics.values_list("run_id", "count", "last_step"))
    short = [run_id for run_id, count, _last in lengths if count <= LONG_LINE]
    points = (
        MetricPoint.objects.filter(run__in=short, name=name)
        .order_by("run_id", "step", "id")
        .values_list("run_id", "step", "value")
    )
    found = {
        run_id: [(step, value) for _run, step, value in rows]
        for run_id, rows in groupby(points, key=lambda row: row[0])
    }
    for run_id, count, last_step in lengths:
        if count > LONG_LINE:
            points = MetricPoint.objects.filter(run_id=run_id, name=name)
            found[run_id] = envelope(points, last_step)
    return found


def envelope(points: QuerySet, last_step: int) -> list[tuple[int, float | None]]:
    """A long line as the lowest and highest value in each of about SLICES slices of its
    steps (from 0 to its last), and its gaps. Drawn, it looks the same as every point would,
    and Python reads a few thousand rows where a run may have reported a million."""
    gaps = points.filter(value__isnull=True).values_list("step", flat=True)[:MOST_GAPS]
    line: list[tuple[int, float | None]] = [(step, None) for step in gaps]
    width = max(last_step, 0) // SLICES + 1
    slices = (
        points.filter(value__isnull=False)
        .annotate(slice=F("step") / width)
        .values("slice")
        .annotate(start=Min("step"), end=Max("step"), low=Min("value"), high=Max("value"))
        .order_by("slice")
        .values_list("start", "end", "low", "high")
    )
    slices = list(slices)
    for index, (start, end, low, _high) in enumerate(slices):
        if start == end:
            line.append((start, low))
        else:
            first, last = in_turn(slices, index)
            line += [(start, first), (end, last)]
    return sorted(line, key=lambda point: point[0])


def in_turn(slices: list[tuple[int, int, float, float]], index: int) -> tuple[float, float]:
    """A slice's lowest and highest value in the order the line likely met them, which is
    not read: the one nearer the next slice last (in the last slice, the one nearer the slice
    before first), so a line rising or falling steadily is drawn through its own points."""
    low, high = slices[index][2:]
    if index + 1 < len(slices):
        towards, high_last = slices[index + 1], True
    else:
        towards, high_last = slices[max(index - 1, 0)], False
    middle = (towards[2] + towards[3]) / 2
    high_nearer = abs(middle - high) < abs(middle - low)
    return (low, high) if high_nearer == high_last else (high, low)


def overlays_of(runs: Sequence[Run], columns: Sequence[Named]) -> list[Overlay]:
    """A chart per shared metric, with a line per run that has it, named as its column."""
    overlays = []
    for name in shared_metrics(runs):
        found = points_by_run(runs, name)
        series = [
            Series(index, column.name, found[run.id])
            for index, (run, column) in enumerate(zip(runs, columns, strict=True))
            if run.id in found
        ]
        overlays.append(overlay(name, series))
    return overlays


def overlay(name: str, series: list[Series]) -> Overlay:
    """One chart of the series, on axes that hold them all."""
    most = max(CHART_POINTS // max(len(series), 1), LINE_POINTS)
    shown = {line.index: line.shown(most) for line in series}
    steps = [step for line in series for step, _ in line.points] or [0]
    values = [value for points in shown.values() for _, value in points]
    x_ticks = nice_ticks(min(steps), max(steps))
    y_ticks = nice_ticks(min(values), max(values)) if values else [0.0]
    x = Scale(min([*steps, x_ticks[0]]), max([*steps, x_ticks[-1]]), LEFT, WIDTH - RIGHT)
    y = Scale(min([*values, *y_ticks]), max([*values, *y_ticks]), HEIGHT - BOTTOM, TOP)
    lines = [
        Line(
            line.index,
            line.title,
            path_of(shown[line.index], line.gaps, x, y),
            dot_marks(line.title, shown[line.index], x, y),
        )
        for line in series
    ]
    return Overlay(
        name=name,
        lines=lines,
        x_ticks=[Tick(x(t), label(t)) for t in x_ticks],
        y_ticks=[Tick(y(t), label(t)) for t in y_ticks],
        **frame((WIDTH, HEIGHT), (LEFT, RIGHT, TOP, BOTTOM)),
    )


def path_of(points: list[Point], gaps: list[int], x: Scale, y: Scale) -> str:
    """The line through the points, lifted where a gap lies between two of them."""
    steps = [step for step, _ in points]
    ys = [y(value) for _, value in points]
    return line_path([x(step) for step in steps], ys, breaks_of(steps, gaps))


def dot_marks(title: str, points: Iterable[Point], x: Scale, y: Scale) -> SafeString:
    """A circle per point, naming its run, step and value on hover; joined here, as on the
    Metrics tab, since a template loop over thousands of points is slow."""
    wording = _("%(run)s, step %(step)s: %(value)s")
    return format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="4"><title>{}</title></circle>',
        (
            (x(s), y(v), wording % {"run": title, "step": label(s), "value": label(v)})
            for s, v in points
        ),
    )
