"""Each metric's chart kept fresh while the run goes, so that a view of its Metrics tab
reads only the points stored after the kept reduction's last step: at most about
REFRESH_POINTS a metric, however long the run.

A metric's reduction is refreshed once it gained REFRESH_POINTS points, by reading only
those and reducing them as much as the rest (pipelines.charts.extended). Its series is read
whole again, and reduced anew, when that grew the reduction past GROWN_POINTS (the series
has doubled since it was last read whole: in all, each point is read about twice). Points
that came at steps the reduction already covers (a step given again, or steps starting
over) are missed by reading later steps alone, so they too have the series read whole,
but each such reading waits REREAD_SHARE times as long as the last one took: a run
reporting its steps in any order costs the worker at most a twentieth of its time. When
the run ends, each reduction is extended with the points since, in the same way; a metric
given steps its reduction covers is then read whole whatever the wait.
"""

import logging
import time
from collections import Counter

from django.db import DatabaseError

from pipelines.charts import CHART_POINTS, Reduced, extended, read_reduced
from pipelines.models import Metric, Run

logger = logging.getLogger(__name__)

REFRESH_POINTS = 10_000
GROWN_POINTS = CHART_POINTS * 2
REREAD_SHARE = 20


class LiveCharts:
    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.kept: dict[str, Reduced] = {}
        self.unreduced: Counter[str] = Counter()  # points stored since the metric's reduction
        self.behind: set[str] = set()  # metrics given points at steps their reduction covers
        self.reread_after = 0.0  # no series is read whole before this (time.monotonic())
        self.broken = False
        self._run: Run | None = None

    def added(self, name: str, step: int) -> None:
        self.unreduced[name] += 1
        kept = self.kept.get(name)
        if kept is not None and step <= kept.ends[1]:
            self.behind.add(name)

    def refresh(self) -> None:
        """Each metric due, once its points are stored; raises the database's errors only
        (the next tick tries again); a fault of its own stops the refreshing, never the run's
        metrics (a chart then reads the points stored since the last refresh)."""
        if self.broken:
            return
        try:
            for name in self.due():
                self.refresh_metric(name)
        except DatabaseError:
            raise
        except Exception:
            logger.exception("Run %s: keeping its metrics reduced failed", self.run_id)
            self.broken = True

    def due(self) -> list[str]:
        rereading = self.rereading()
        return [
            name
            for name, count in self.unreduced.items()
            if count >= REFRESH_POINTS or (count and name in self.behind and rereading)
        ]

    def finish(self) -> None:
        """Each metric's reduction brought up to its last point, once the run ended: the
        kept one extended with the points since, a metric given steps it covers (or every
        metric, where refreshing broke) read whole; raises what it meets."""
        for name, count in self.unreduced.items():
            if count:
                self.refresh_metric(name, whole=self.broken or name in self.behind)

    def refresh_metric(self, name: str, whole: bool = False) -> None:
        kept = self.kept.get(name)
        if kept is None or whole or (name in self.behind and self.rereading()):
            series = self.reread(name)
        else:
            series = extended(self.run, name, kept, timed=True)
            if len(series.shown) > GROWN_POINTS:
                series = self.reread(name)
        Metric.objects.filter(run_id=self.run_id, name=name).update(chart=series.stored())
        self.kept[name] = series
        self.unreduced[name] = 0

    def rereading(self) -> bool:
        return time.monotonic() >= self.reread_after

    def reread(self, name: str) -> Reduced:
        started = time.monotonic()
        series = read_reduced(self.run, name, timed=True)
        self.reread_after = time.monotonic() + REREAD_SHARE * (time.monotonic() - started)
        self.behind.discard(name)
        return series

    @property
    def run(self) -> Run:
        if self._run is None:
            self._run = Run.objects.only("id", "started_at").get(id=self.run_id)
        return self._run
