"""The fields of a pipeline's definition, listed once.

PipelineForm cleans them, define() sets them, a new run copies some of them, the Create
Pipeline screen shows them and the API names and nests them, each by reading DEFINITION.
A new field is its model and form fields plus one entry here; tests/pipelines/test_fields.py
proves that every layer follows the list.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.models import Pipeline, ScheduleKind


def always(pipeline: Pipeline) -> bool:
    return True


def never(pipeline: Pipeline) -> bool:
    return False


def once(pipeline: Pipeline) -> bool:
    return pipeline.schedule_kind == ScheduleKind.ONCE


def recurring(pipeline: Pipeline) -> bool:
    return pipeline.schedule_kind == ScheduleKind.RECURRING


def by_cron(pipeline: Pipeline) -> bool:
    return recurring(pipeline) and bool(pipeline.cron)


def by_interval(pipeline: Pipeline) -> bool:
    return recurring(pipeline) and not pipeline.cron


@dataclass(frozen=True)
class Field:
    """A field of Pipeline, cleaned by PipelineForm; its default is the model field's."""

    name: str
    key: str = ""  # its name in the API, when not `name`
    run: str = ""  # the field of Run that a new run copies it into; "" when it copies nothing
    made_from: tuple[str, ...] = ()  # PipelineForm's fields it is cleaned from, when not `name`
    answered: Callable[[Pipeline], bool] = always  # whether the API's answer shows it

    @property
    def api_name(self) -> str:
        return self.key or self.name

    @property
    def form_names(self) -> tuple[str, ...]:
        return self.made_from or (self.name,)

    @property
    def default(self) -> object:
        return Pipeline._meta.get_field(self.name).get_default()

    def stored(self, pipeline: Pipeline):
        """The value as the API and the screen give it: a related row by its id."""
        return getattr(pipeline, Pipeline._meta.get_field(self.name).attname)


@dataclass(frozen=True)
class Group:
    """Fields that the API's body and answers nest in one object named `key`."""

    key: str
    fields: tuple[Field, ...]
    # What a body that leaves the group out means, in the API's names.
    absent: dict = dataclasses.field(default_factory=dict)


DEFINITION = (
    Field("name"),
    Field("type", run="type"),
    Field("package_version", run="package_version", made_from=("package", "version")),
    Field("input_dataset", run="input_dataset"),
    Field("input_path", run="input_path"),
    Field("evaluation_dataset", run="evaluation_dataset"),
    Field("evaluation_path", run="evaluation_path"),
    Field("network", run="network"),
    # A run takes the parameters on their own, the defaults added (start.queue_run).
    Field("parameters"),
    # A pipeline's time_limit is its timeout or the service's RUN_TIMEOUT.
    Field("timeout", run="time_limit", answered=never),
    Group(
        "schedule",
        (
            Field("schedule_kind", key="kind"),
            Field("run_at", key="at", answered=once),
            Field("cron", answered=by_cron),
            Field(
                "interval_minutes",
                key="every",
                made_from=("repeat", "every", "unit"),
                answered=by_interval,
            ),
            Field("starts_at", key="start", answered=recurring),
            Field("ends_at", key="end", answered=recurring),
            Field("on_overlap", key="overlap", answered=recurring),
        ),
        absent={"kind": ScheduleKind.NOW},
    ),
    # A run takes them with the service's defaults filled in (start.queue_run).
    Group(
        "resources",
        (
            Field("cpus"),
            Field("memory_gb"),
            Field("disk_gb"),
            # The body's "gpu": true, kept from before GPUs were counted, means one.
            Field("gpus", made_from=("gpus", "gpu")),
        ),
    ),
)


def top_fields() -> list[Field]:
    """The fields at the top of the API's body and answers."""
    return [entry for entry in DEFINITION if isinstance(entry, Field)]


def groups() -> list[Group]:
    return [entry for entry in DEFINITION if isinstance(entry, Group)]


def definition_fields() -> list[Field]:
    """Every field of the definition, those the API nests included."""
    return [*top_fields(), *(field for group in groups() for field in group.fields)]


def package_and_version(pipeline: Pipeline) -> dict:
    """The package version as the API and PipelineForm name it."""
    version = pipeline.package_version
    return {"package": version.package_id, "version": version.label}
