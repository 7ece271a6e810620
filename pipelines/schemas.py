from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, model_serializer

from aicenter.schemas import Moment, Page
from packages.contract import PipelineType
from pipelines.models import Overlap, Stream
from pipelines.models import Status as RunStatus


class RunOutputsOut(Schema):
    package: int
    version: str | None
    artifacts: int
    snapshot: bool


class ResourcesOut(Schema):
    cpus: int
    memory_gb: float
    disk_gb: float | None
    gpus: int


class RunOut(Schema):
    id: int
    pipeline: int | None
    type: PipelineType
    status: RunStatus
    package: int
    version: str
    parameters: dict[str, str]
    logged_parameters: dict[str, str] = Field(
        description="What the run's code logged with MLflow's log_param and log_params: a "
        "record of the run, never a variable of a later one."
    )
    tags: dict[str, str] = Field(description="What the run's code set with MLflow's set_tag.")
    network: bool
    resources: ResourcesOut
    created_at: Moment
    started_at: Moment | None
    ended_at: Moment | None
    execution_time: float | None
    score: float | None
    error: str | None
    waiting: str | None
    outputs: RunOutputsOut


class NowScheduleOut(Schema):
    kind: Literal["now"]


class OnceScheduleOut(Schema):
    kind: Literal["once"]
    at: Moment
    next: Moment | None


class RecurringScheduleOut(Schema):
    """Either `cron` or `every` is given, never both."""

    kind: Literal["recurring"]
    cron: str = None
    every: str = None
    start: Moment | None
    end: Moment | None
    overlap: Overlap
    next: Moment | None

    @model_serializer(mode="wrap")
    def given_only(self, handler):
        # The one left out stays out of the answer rather than reading null; no return
        # annotation, or pydantic would document that type instead of the fields.
        return {
            name: value for name, value in handler(self).items() if name in self.model_fields_set
        }


ScheduleOut = Annotated[
    NowScheduleOut | OnceScheduleOut | RecurringScheduleOut, Field(discriminator="kind")
]


class PipelineOut(Schema):
    """A pipeline with its runs, newest first (a list carries only the newest)."""

    id: int
    name: str
    type: PipelineType
    package: int
    version: str
    input_dataset: int | None
    input_path: str
    evaluation_dataset: int | None
    evaluation_path: str
    gpu: bool
    network: bool
    parameters: dict[str, str]
    schedule: ScheduleOut
    resources: ResourcesOut
    created_at: Moment
    runs: list[RunOut]


class PipelinePage(Page[PipelineOut]):
    pass


class WorkerOut(Schema):
    name: str
    queue: str
    cpus: int
    memory_bytes: int
    gpus: int
    reserved_cpus: int
    reserved_memory_bytes: int
    reserved_gpus: int
    running: int = Field(description="Runs in progress.")
    cache_bytes: int
    environments_bytes: int
    seen_at: Moment


class WorkerPage(Page[WorkerOut]):
    pass


class LogLineOut(Schema):
    n: int
    time: Moment
    stream: Stream
    text: str


class LogsOut(Schema):
    lines: list[LogLineOut]
    finished: bool


class MetricOut(Schema):
    """One metric of a run: its value at the highest step, and over all its points. Gaps
    (NaN or infinity reported) are null, and min and max skip them."""

    name: str
    last: float | None
    min: float | None
    max: float | None
    count: int


class MetricsOut(Schema):
    items: list[MetricOut]


class MetricPointOut(Schema):
    step: int
    value: float | None
    time: Moment


class MetricPointPage(Page[MetricPointOut]):
    pass


class ArtifactOut(Schema):
    path: str
    size: int
    sha256: str | None  # null for artifacts published before it was recorded


class ArtifactPage(Page[ArtifactOut]):
    pass


class SnapshotFileOut(Schema):
    path: str
    size: int
    sha256: str


class SnapshotFilePage(Page[SnapshotFileOut]):
    pass


class LineageDataOut(Schema):
    dataset: int
    path: str


class LineageOut(Schema):
    data: list[LineageDataOut]
    snapshot: int | None
    run: int
    trained_from: str
    version: str | None
    used_by: list[int]
    used_by_count: int


class RowOut(Schema):
    label: str
    left: str
    right: str
    differs: bool


class SectionOut(Schema):
    title: str
    rows: list[RowOut]


class ComparisonOut(Schema):
    runs: list[int]
    score_difference: float | None
    sections: list[SectionOut]


# The run's _results.json: its shape grows with the runner (see ARCHITECTURE.md).
ResultsOut = dict[str, Any]
