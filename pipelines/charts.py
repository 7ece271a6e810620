"""Line charts of a run's metrics, drawn on the server as SVG.

No script draws them, so they pass the strict content security policy, and a long
series costs the browser no more than a short one: it is reduced here to at most
CHART_POINTS points by largest-triangle-three-buckets, which keeps a curve's shape
(its peaks and dips) where plain sampling would lose them.
"""

import bisect
import math
from dataclasses import dataclass

from django.utils.html import format_html_join

CHART_POINTS = 1000
# A page draws this many metrics; the table lists them all.
CHARTED_METRICS = 24
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 32
TICKS = 5

Point = tuple[float, float]


def lttb(points: list[Point], threshold: int) -> list[Point]:
    """At most `threshold` of `points` (sorted by x) that draw the same curve: the first and
    the last, and from each bucket between them the point making the largest triangle with
    the point kept before it and the mean of the next bucket."""
    if threshold >= len(points) or threshold < 3:
        return list(points)
    kept = [points[0]]
    size = (len(points) - 2) / (threshold - 2)
    for bucket in range(threshold - 2):
        start, end = 1 + int(bucket * size), 1 + int((bucket + 1) * size)
        following = points[end : 1 + int((bucket + 2) * size)] or [points[-1]]
        mean_x = sum(x for x, _ in following) / len(following)
        mean_y = sum(y for _, y in following) / len(following)
        ax, ay = kept[-1]
        # Twice the triangle's area, less the terms that are the same for every candidate.
        dx, dy = ax - mean_x, mean_y - ay
        largest, chosen = -1.0, points[start]
        for candidate in points[start:end]:
            area = abs(dx * (candidate[1] - ay) - (ax - candidate[0]) * dy)
            if area > largest:
                largest, chosen = area, candidate
        kept.append(chosen)
    kept.append(points[-1])
    return kept


def nice_ticks(low: float, high: float, count: int = TICKS) -> list[float]:
    """Round values (1, 2, 2.5 or 5 times a power of ten apart) from `low` to `high`."""
    if high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(factor * power for factor in (1, 2, 2.5, 5, 10) if factor * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    count = int((high - first) / step + 1e-9) + 1
    return [round(first + index * step, 12) for index in range(count)]


def label(value: float) -> str:
    """Whole numbers in full (steps: 25,000), others to four significant digits."""
    if float(value).is_integer() and abs(value) < 1e9:
        return f"{value:,.0f}"
    return f"{value:.4g}"


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    step: int
    value: str


@dataclass(frozen=True, kw_only=True)
class Frame:
    """Where a chart's axes lie in its drawing (partials/chart_axes.html draws them)."""

    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


@dataclass(frozen=True)
class Chart(Frame):
    name: str
    path: str
    dots: list[Dot]

    @property
    def dot_marks(self) -> str:
        """A circle per point, its value shown on hover; joined here, since a template loop
        over a thousand points per chart would take longer than the rest of the page."""
        return format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="4"><title>step {}: {}</title></circle>',
            ((dot.x, dot.y, dot.step, dot.value) for dot in self.dots),
        )


class Scale:
    """Maps values from [low, high] onto [start, end] of the drawing."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        if high == low:
            low, high = low - 1, high + 1
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value: float) -> float:
        fraction = (value - self.low) / (self.high - self.low)
        return round(self.start + fraction * (self.end - self.start), 1)


def chart(name: str, series: list[tuple[int, float | None]]) -> Chart:
    """The chart of one metric's (step, value) points, sorted by step; None values are gaps,
    where the line breaks."""
    shown = lttb([(s, v) for s, v in series if v is not None], CHART_POINTS)
    gaps = [step for step, value in series if value is None]
    steps = [step for step, _ in series] or [0]
    x_ticks = nice_ticks(min(steps), max(steps))
    y_ticks = nice_ticks(min(v for _, v in shown), max(v for _, v in shown)) if shown else [0.0]
    x = Scale(min(steps[0], x_ticks[0]), max(steps[-1], x_ticks[-1]), LEFT, WIDTH - RIGHT)
    values = [v for _, v in shown] + y_ticks
    y = Scale(min(values), max(values), HEIGHT - BOTTOM, TOP)
    return Chart(
        name=name,
        path=line_path(shown, gaps, x, y),
        dots=[Dot(x(s), y(v), int(s), label(v)) for s, v in shown],
        x_ticks=[Tick(x(t), label(t)) for t in x_ticks],
        y_ticks=[Tick(y(t), label(t)) for t in y_ticks],
    )


def line_path(shown: list[Point], gaps: list[int], x: Scale, y: Scale) -> str:
    """An SVG path through the points, lifted where a gap lies between two of them."""
    parts, previous = [], None
    for step, value in shown:
        broken = previous is None or bisect.bisect_right(gaps, previous) < bisect.bisect_left(
            gaps, step
        )
        parts.append(f"{'M' if broken else 'L'}{x(step)},{y(value)}")
        previous = step
    return " ".join(parts)


def metrics_of(run) -> tuple[list[dict], list[Chart]]:
    """A run's metric summaries, and a chart of each of the first CHARTED_METRICS."""
    summaries = run.metrics.summaries()
    charts = []
    for summary in summaries[:CHARTED_METRICS]:
        points = run.metric_points.filter(name=summary["name"]).order_by("step", "id")
        charts.append(chart(summary["name"], list(points.values_list("step", "value"))))
    return summaries, charts
