import pytest
from django.urls import reverse

from pipelines.models import Run, Status
from pipelines.runner.logs import RunLog
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


def test_run_page_shows_a_failed_runs_error_and_logs(project, viewer_client, run):
    Run.objects.filter(id=run.id).update(status=Status.FAILED, error="ValueError: no labels")
    log = RunLog(run)
    log.add("stdout", "reading data")
    log.add("stderr", "Traceback (most recent call last):")
    log.flush()
    response = viewer_client.get(run.get_absolute_url())
    assert 'role="alert">ValueError: no labels' in response.text
    assert "reading data" in response.text
    assert 'class="log-stderr"' in response.text


def test_run_page_of_another_project_is_404(project, outsider_client, run):
    assert outsider_client.get(run.get_absolute_url()).status_code == 404
