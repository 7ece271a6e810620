from datetime import timedelta

import pytest
from django.urls import reverse

from pipelines.models import Run, Status
from tests.pipelines.builders import dataset_with, example_version, training_pipeline


@pytest.fixture
def run(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "flowers", {"train/a.csv": b"1"})
    pipeline = training_pipeline(project, owner, version, data, input_path="train")
    return pipeline.runs.get()


def test_pipelines_page_lists_runs_with_their_status(project, viewer_client, run):
    response = viewer_client.get(reverse("pipelines:list", args=[project.id]))
    assert "nightly" in response.text
    assert "status-scheduled" in response.text


def test_the_lists_write_a_runs_duration_as_its_page_does(project, viewer_client, run):
    ended = run.created_at + timedelta(seconds=800)
    Run.objects.filter(id=run.id).update(
        status=Status.FAILED, started_at=ended - timedelta(seconds=754), ended_at=ended
    )
    for url in [reverse("pipelines:list", args=[project.id]), run.pipeline.get_absolute_url()]:
        assert '"size">12 min 34 s</td>' in viewer_client.get(url).text
