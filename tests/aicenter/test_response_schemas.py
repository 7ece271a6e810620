"""Each serializer's answer passes through its response schema unchanged.

Ninja writes only the fields a schema declares: a key a serializer gains
without its schema would vanish from the API's answers without a word.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from aicenter.api import project_data
from aicenter.schemas import ProjectOut
from datasets.api import dataset_data, entry_data, summarised, upload_data
from datasets.ingest import put_file
from datasets.schemas import DatasetOut, EntryPage, UploadOut
from packages.api import version_data, with_latest, with_versions
from packages.schemas import ListedPackageOut, PackageOut, VersionOut
from pipelines.api import pipeline_data, run_data, runs_of
from pipelines.models import Overlap, ScheduleKind, Status
from pipelines.schemas import PipelineOut, RunOut
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    publish,
    run_of,
    training_pipeline,
)

LATER = timezone.now() + timedelta(days=1)
SCHEDULES = {
    "now": {},
    "once": {"schedule_kind": ScheduleKind.ONCE, "run_at": LATER},
    "cron": {"schedule_kind": ScheduleKind.RECURRING, "cron": "0 3 * * *"},
    "every": {
        "schedule_kind": ScheduleKind.RECURRING,
        "interval_minutes": 360,
        "starts_at": LATER,
        "on_overlap": Overlap.QUEUE,
    },
}


def passes_unchanged(schema, data: dict) -> None:
    assert schema.model_validate(data).model_dump() == data


@pytest.fixture
def data(project):
    return dataset_with(project, "reviews", {"train/a.csv": b"x\n1\n", "b.csv": b"x\n2\n"})


@pytest.fixture
def version(project, owner):
    return example_version(project, owner)


@pytest.fixture
def trained(project, owner, version, data):
    """A successful run that made a version and a snapshot."""
    pipeline = training_pipeline(project, owner, version, data)
    return publish(run_of(pipeline, Status.SUCCESSFUL), score=0.5)


def test_a_project_passes_its_schema_unchanged(project):
    passes_unchanged(ProjectOut, project_data(project, "owner"))


def test_packages_and_their_versions_pass_their_schemas_unchanged(version, trained):
    passes_unchanged(VersionOut, version_data(version))
    passes_unchanged(VersionOut, version_data(trained.produced_version))
    passes_unchanged(PackageOut, with_versions(version.package))
    passes_unchanged(ListedPackageOut, with_latest(version.package))


def test_datasets_their_entries_and_uploads_pass_their_schemas_unchanged(project, data):
    passes_unchanged(DatasetOut, dataset_data(summarised(project, data.id)))
    entries = data.folder("").entries
    page = {"items": [entry_data(entry) for entry in entries[:]], "count": 2, "next": None}
    assert [item["kind"] for item in page["items"]] == ["folder", "file"]
    passes_unchanged(EntryPage, page)
    passes_unchanged(UploadOut, upload_data(put_file(data, "b.csv", [b"x\n3\n"])))


def test_runs_pass_their_schema_unchanged(trained):
    runs = runs_of(trained.pipeline)
    assert {run.status for run in runs} == {Status.SCHEDULED, Status.SUCCESSFUL}
    for run in runs:
        passes_unchanged(RunOut, run_data(run))


@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_pipelines_with_each_schedule_pass_their_schema_unchanged(
    project, owner, version, data, schedule
):
    pipeline = training_pipeline(project, owner, version, data, **schedule)
    passes_unchanged(PipelineOut, pipeline_data(pipeline, runs_of(pipeline)))
