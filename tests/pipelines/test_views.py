import pytest
from django.urls import reverse

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
