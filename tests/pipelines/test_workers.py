"""The Workers page and API, and pipelines refused when no worker could ever run them."""

import pytest
from django.urls import reverse

from pipelines.models import Pipeline, Run, Worker
from pipelines.resources import GB
from tests.factories import api_client, logged_in_client, make_user
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    post_pipeline,
    training_body,
    training_pipeline,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def workers():
    return [
        Worker.objects.create(name="big-box", queue="aicenter", cpus=8, memory_bytes=8 * GB),
        Worker.objects.create(
            name="small-box",
            queue="aicenter",
            cpus=2,
            memory_bytes=2 * GB,
            reserved_cpus=1,
            running=1,
            cache_bytes=3 * 1024**2,
        ),
    ]


@pytest.fixture
def staff():
    return make_user("stella", is_staff=True)


@pytest.fixture
def data(project):
    return dataset_with(project, "flowers", {"train/a.csv": b"1"})


def test_members_read_every_worker_from_the_project(project, viewer_client, workers):
    response = viewer_client.get(reverse("pipelines:workers", args=[project.id]))
    assert response.status_code == 200
    assert 'data-worker="big-box"' in response.text
    assert 'data-worker="small-box"' in response.text
    assert "1 of 2 held" in response.text
    assert "3.0\xa0MB" in response.text
    assert 'aria-current="page">Workers</a>' in response.text


def test_staff_see_every_worker_and_others_get_404(staff, viewer_client, workers):
    response = logged_in_client(staff).get(reverse("workers"))
    assert response.status_code == 200
    assert 'data-worker="small-box"' in response.text
    assert viewer_client.get(reverse("workers")).status_code == 404


def test_an_outsider_gets_404_from_the_projects_workers(project, outsider_client, workers):
    assert outsider_client.get(reverse("pipelines:workers", args=[project.id])).status_code == 404


def test_the_page_says_when_no_worker_reported(project, viewer_client):
    response = viewer_client.get(reverse("pipelines:workers", args=[project.id]))
    assert "No worker has reported yet." in response.text


def test_the_api_lists_workers_to_members_and_staff_only(project, viewer, outsider, workers):
    answer = api_client(viewer).get("/api/v1/workers")
    assert answer.status_code == 200
    small = answer.json()["items"][1]
    assert (small["name"], small["cpus"], small["reserved_cpus"]) == ("small-box", 2, 1)
    assert (small["memory_bytes"], small["running"]) == (2 * GB, 1)
    assert api_client(outsider).get("/api/v1/workers").status_code == 404


def test_a_pipeline_no_worker_could_run_is_refused_naming_the_largest(
    project, owner, data, workers
):
    version = example_version(project, owner)
    answer = post_pipeline(
        api_client(owner), project, training_body(version, data, resources={"memory_gb": 16})
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["field"] == "memory_gb"
    assert error["message"] == (
        "No worker could ever run this with 1 core, 16 GB memory, no disk cap, no GPU: "
        "the largest seen, big-box, has 8 cores, 8 GB memory and no GPU."
    )
    assert not Pipeline.objects.exists()
    assert not Run.objects.exists()


def test_a_pipeline_is_refused_on_the_form_too(project, owner, owner_client, data, workers):
    version = example_version(project, owner)
    form = {
        "name": "wide",
        "type": "training",
        "package": version.package_id,
        "version": version.label,
        "input_dataset": data.id,
        "cpus": 16,
        "schedule_kind": "now",
        "parameters": "{}",
    }
    response = owner_client.post(reverse("pipelines:create", args=[project.id]), form)
    assert response.status_code == 400
    assert "No worker could ever run this with 16 cores" in response.text
    assert not Pipeline.objects.exists()


def test_a_pipeline_that_fits_some_worker_is_accepted(project, owner, data, workers):
    version = example_version(project, owner)
    body = training_body(version, data, resources={"memory_gb": 6, "cpus": 4})
    assert post_pipeline(api_client(owner), project, body).status_code == 201


def test_before_any_worker_reports_a_pipeline_is_accepted_and_waits(project, owner, data):
    pipeline = training_pipeline(
        project, owner, example_version(project, owner), data, memory_gb=512
    )
    assert pipeline.runs.get().memory_gb == 512


def test_the_list_says_why_a_scheduled_run_waits(project, owner, viewer_client, data):
    pipeline = training_pipeline(project, owner, example_version(project, owner), data)
    reason = "Waiting for a worker with 16 GB memory free."
    Run.objects.filter(pipeline=pipeline).update(waiting_reason=reason)
    response = viewer_client.get(reverse("pipelines:list", args=[project.id]))
    assert reason in response.text
