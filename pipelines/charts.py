"""Line charts of a run's metrics, drawn on the server as SVG.

No script draws them, so they pass the strict content security policy, and a long
series costs the browser no more than a short one: it is reduced here to at most
CHART_POINTS points by largest-triangle-three-buckets, which keeps a curve's shape
(its peaks and dips) where plain sampling would lose them.

A chart's x axis is the step, or the time since the run started: the points are
reduced by step in both cases, and then placed at the time each was stored.

While a run goes, its runner keeps each metric reduced (pipelines/runner/charts.py), and a
chart is that reduction followed by the points stored after its last step, reduced as much:
a view reads a bounded number of points however long the run.
"""

import bisect
import math
from dataclasses import dataclass, fields, replace
from html import escape
from operator import add
from typing import NamedTuple

from django.db import models
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aicenter.charts import Framed, Scale, Tick, frame, label, nice_ticks, ticks_every
from pipelines.models import Metric

CHART_POINTS = 1000
# A page draws this many metrics; the table lists them all.
CHARTED_METRICS = 24
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 32
# Seconds between ticks of a time axis: whole seconds, minutes, hours and days.
TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
              43200, 86400]  # fmt: skip

Point = tuple[float, float]


class Axis(models.TextChoices):
    STEP = "step", gettext_lazy("Step")
    TIME = "time", gettext_lazy("Time")

    @property
    def caption(self) -> str:
        """What a chart's caption says of its x axis."""
        return str(AXIS_CAPTIONS[self])


AXIS_CAPTIONS = {Axis.STEP: gettext_lazy("by step"), Axis.TIME: gettext_lazy("by time")}


def lttb(points: list[Point], threshold: int) -> list[Point]:
    """At most `threshold` of `points` (sorted by x) that draw the same curve: the first and
    the last, and from each bucket between them the point making the largest triangle with
    the point kept before it and the mean of the next bucket."""
    count = len(points)
    if threshold >= count or threshold < 3:
        return list(points)
    xs, ys = zip(*points, strict=True)
    size = (count - 2) / (threshold - 2)
    kept, (ax, ay) = [points[0]], points[0]
    for bucket in range(threshold - 2):
        start, end = 1 + int(bucket * size), 1 + int((bucket + 1) * size)
        after = min(1 + int((bucket + 2) * size), count)
        if after > end:
            mean_x = sum(xs[end:after]) / (after - end)
            mean_y = sum(ys[end:after]) / (after - end)
        else:
            mean_x, mean_y = xs[-1], ys[-1]
        # Twice a candidate's triangle is |dx * y + dy * x - offset|: the largest is where
        # dx * y + dy * x is highest or lowest, found by C loops rather than a Python one.
        dx, dy = ax - mean_x, mean_y - ay
        offset = dx * ay + dy * ax
        sums = list(map(add, map(dx.__mul__, ys[start:end]), map(dy.__mul__, xs[start:end])))
        high, low = max(sums), min(sums)
        chosen = start + sums.index(high if high - offset >= offset - low else low)
        ax, ay = xs[chosen], ys[chosen]
        kept.append(points[chosen])
    kept.append(points[-1])
    return kept


def time_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Seconds from `low` to `high` a round time apart (30 s, 1 min, 5 min, 1 h...)."""
    if high <= low:
        return [low]
    raw = (high - low) / (count - 1)
    step = next((step for step in TIME_STEPS if step >= raw), None)
    if step is None:  # many days: round numbers of days
        return [day * 86400 for day in nice_ticks(low / 86400, high / 86400, count)]
    return ticks_every(step, low, high)


def clock(seconds: float) -> str:
    """Elapsed time as a clock shows it: 0:30, 2:00, 1:05:00."""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{second:02}" if hours else f"{minute}:{second:02}"


class Dot(NamedTuple):
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Chart(Framed):
    name: str
    axis: Axis
    path: str
    dots: list[Dot]
    x_ticks: list[Tick]
    y_ticks: list[Tick]

    @property
    def dot_marks(self) -> str:
        """A circle per point, its value shown on hover; joined here, since a template loop
        (or format_html) over a thousand points per chart would take longer than the rest
        of the page. Coordinates are numbers; only the titles need escaping."""
        return mark_safe(  # noqa: S308  # nosec B308 B703 - the titles are escaped
            "".join(
                f'<circle cx="{x}" cy="{y}" r="4"><title>{escape(title)}</title></circle>'
                for x, y, title in self.dots
            )
        )


@dataclass(frozen=True)
class Reduced:
    """A series as a chart draws it: at most CHART_POINTS points, the indices of those the
    line lifts before (a gap lies between them and the one before), the steps of the
    series' ends, and when asked, the seconds from the run's start at which each shown
    point was stored. `count` is how many points it was reduced from."""

    shown: list[Point]
    breaks: list[int]
    ends: tuple[int, int]
    count: int
    seconds: list[float] | None = None

    def stored(self) -> dict:
        # Not asdict(), which copies each point deeply: ten times as long, for the same JSON.
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_stored(cls, stored: dict) -> "Reduced":
        shown = [tuple(point) for point in stored["shown"]]
        return cls(**{**stored, "shown": shown, "ends": tuple(stored["ends"])})

    def followed_by(self, after: "Reduced") -> "Reduced":
        """This series and then `after`, a series of later steps; the line lifts between them
        where a gap does (the last point here or the first there was one)."""
        if not after.count:
            return self
        gap_between = not self.shown or (
            self.ends[1] != self.shown[-1][0]
            or (after.shown and after.ends[0] != after.shown[0][0])
        )
        breaks = [index + len(self.shown) for index in after.breaks if index or gap_between]
        both_timed = self.seconds is not None and after.seconds is not None
        return Reduced(
            self.shown + after.shown,
            self.breaks + breaks,
            (self.ends[0], after.ends[1]),
            self.count + after.count,
            self.seconds + after.seconds if both_timed else None,
        )


def reduced(series: list[tuple[int, float | None]], points: int = CHART_POINTS) -> Reduced:
    present = [point for point in series if point[1] is not None]
    gaps = [step for step, value in series if value is None] if len(present) < len(series) else []
    shown = lttb(present, points)
    ends = (series[0][0], series[-1][0]) if series else (0, 0)
    return Reduced(shown, breaks_of([step for step, _ in shown], gaps), ends, len(series))


def breaks_of(steps: list[int], gaps: list[int]) -> list[int]:
    """Indices of the steps that a gap separates from the step before them (the first too)."""
    if not gaps:
        return [0] if steps else []
    return [
        index
        for index, step in enumerate(steps)
        if index == 0
        or bisect.bisect_right(gaps, steps[index - 1]) < bisect.bisect_left(gaps, step)
    ]


def chart(name: str, series: list[tuple[int, float | None]]) -> Chart:
    """The chart of one metric's (step, value) points, sorted by step; None values are gaps,
    where the line breaks."""
    return drawn(name, reduced(series))


def drawn(name: str, series: Reduced, axis: Axis = Axis.STEP) -> Chart:
    """The chart of a reduced series, by step, or by time (given its `seconds`)."""
    steps = [step for step, _ in series.shown]
    values = [value for _, value in series.shown]
    if axis == Axis.STEP:
        places, ends = steps, series.ends
        x_ticks, x_label = nice_ticks(*ends), label
    else:
        places = series.seconds
        ends = (min([0, *places]), max([0, *places]))
        x_ticks, x_label = time_ticks(*ends), clock
    y_ticks = nice_ticks(min(values), max(values)) if values else [0.0]
    x = Scale(min(ends[0], x_ticks[0]), max(ends[1], x_ticks[-1]), LEFT, WIDTH - RIGHT)
    y = Scale(min(values + y_ticks), max(values + y_ticks), HEIGHT - BOTTOM, TOP)
    xs, ys = [x(place) for place in places], [y(value) for value in values]
    return Chart(
        name=name,
        axis=axis,
        path=line_path(xs, ys, series.breaks),
        dots=list(map(Dot, xs, ys, titles(series.shown, places, axis))),
        x_ticks=x.ticks(x_ticks, x_label),
        y_ticks=y.ticks(y_ticks),
        **frame((WIDTH, HEIGHT), (LEFT, RIGHT, TOP, BOTTOM)),
    )


def titles(shown: list[Point], places: list[float], axis: Axis) -> list[str]:
    """What hovering over each point says."""
    if axis == Axis.STEP:
        text = _("step %(step)s: %(value)s")
        return [text % {"step": int(s), "value": label(v)} for s, v in shown]
    text = _("step %(step)s at %(time)s: %(value)s")
    return [
        text % {"step": int(s), "time": clock(at), "value": label(v)}
        for (s, v), at in zip(shown, places, strict=True)
    ]


def line_path(xs: list[float], ys: list[float], breaks: list[int]) -> str:
    """An SVG path through the points, lifted before each of `breaks`."""
    lifted = set(breaks)
    return " ".join(
        f"{'M' if index in lifted else 'L'}{at_x},{at_y}"
        for index, (at_x, at_y) in enumerate(zip(xs, ys, strict=True))
    )


def metrics_of(run, axis: Axis = Axis.STEP) -> tuple[list[Metric], list[Chart]]:
    """A run's metrics, and a chart of each of the first CHARTED_METRICS."""
    metrics = list(run.metrics.order_by("name").defer("chart"))
    charted = metrics[:CHARTED_METRICS]
    kept = dict(run.metrics.filter(id__in=[m.id for m in charted]).values_list("id", "chart"))
    return metrics, [drawn(m.name, series_of(run, m, kept[m.id], axis), axis) for m in charted]


def series_of(run, metric: Metric, kept: dict | None, axis: Axis) -> Reduced:
    """The metric's series reduced: as it was kept once the run's last points were stored,
    else read and reduced now (and kept, if the run ended, for the views to come); while the
    run goes, as its runner last kept it and the points stored since."""
    timed = axis == Axis.TIME
    if not run.is_finished:
        if not kept or not kept["count"]:
            return read_reduced(run, metric.name, timed)
        return extended(run, metric.name, Reduced.from_stored(kept), timed)
    if kept and kept["count"] == metric.count:
        return Reduced.from_stored(kept)
    return kept_series(run, metric)


def read_reduced(run, name: str, timed: bool) -> Reduced:
    series = reduced(run.metric_points.series(name))
    return with_seconds(run, name, series) if timed else series


def with_seconds(run, name: str, series: Reduced) -> Reduced:
    return replace(series, seconds=elapsed(run, name, [step for step, _ in series.shown]))


def extended(run, name: str, kept: Reduced, timed: bool) -> Reduced:
    """`kept` and the points stored after its last step, reduced to the share of points that
    `kept` shows of those it was reduced from (at least their ends and one between)."""
    later = run.metric_points.filter(step__gt=kept.ends[1]).series(name)
    share = math.ceil(len(later) * len(kept.shown) / kept.count)
    after = reduced(later, min(max(share, 3), CHART_POINTS))
    if timed:
        after = with_seconds(run, name, after)
    else:
        kept = replace(kept, seconds=None)
    return kept.followed_by(after)


def kept_series(run, metric: Metric) -> Reduced:
    series = read_reduced(run, metric.name, timed=True)
    Metric.objects.filter(id=metric.id).update(chart=series.stored())
    return series


def keep_charts(run) -> None:
    """Reduces each metric of a run whose last points are stored, so that its charts read
    none: reading and reducing 100,000 points is most of the time a chart takes."""
    for metric in run.metrics.defer("chart"):
        kept_series(run, metric)


def elapsed(run, name: str, steps: list[int]) -> list[float]:
    """Seconds from the run's start to when each step of the metric was stored."""
    stored = dict(run.metric_points.filter(name=name, step__in=set(steps)).stored_times())
    start = run.started_at or min(stored.values(), default=None)
    return [(stored[step] - start).total_seconds() for step in steps]
