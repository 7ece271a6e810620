"""The metric columns of a pipeline's runs: the metrics a person chose to see (remembered in
the page's address), and each run's last value of each, read in one query for the page."""

from dataclasses import dataclass
from urllib.parse import urlencode

from pipelines.models import Metric, Pipeline, Run

# Shown until a person chooses: the metrics most runs reported, alphabetical among equals.
DEFAULT_COLUMNS = 3


@dataclass(frozen=True)
class MetricColumns:
    names: list[str]  # every metric the pipeline's runs reported, alphabetical
    chosen: list[str]
    asked: bool  # whether the address says which metrics, rather than the default

    @classmethod
    def from_query(cls, query, pipeline: Pipeline) -> "MetricColumns":
        reported = Metric.objects.filter(run__pipeline=pipeline).most_reported_names()
        names = sorted(reported)
        if "columns" not in query:
            return cls(names, reported[:DEFAULT_COLUMNS], asked=False)
        wanted = set(query.getlist("metric"))
        return cls(names, [name for name in names if name in wanted], asked=True)

    @property
    def query(self) -> str:
        """The choice as a query string, for the pages and the live refresh."""
        if not self.asked:
            return ""
        return urlencode([("columns", "1"), *(("metric", name) for name in self.chosen)])

    def fill(self, runs: list[Run]) -> None:
        """Gives each run its `metric_values`: (name, last value or None) per chosen metric."""
        last = {}
        if self.chosen and runs:
            found = Metric.objects.filter(run__in=runs, name__in=self.chosen)
            last = {(run, name): value for run, name, value in found.last_of_runs()}
        for run in runs:
            run.metric_values = [(name, last.get((run.id, name))) for name in self.chosen]
