"""A pipeline's resources: the service's defaults where it names none, recorded on each run."""

import pytest

from pipelines.models import Run
from tests.factories import api_client, logged_in_client
from tests.pipelines.builders import dataset_with, example_version, post_pipeline, training_body


@pytest.fixture
def version(project, owner):
    return example_version(project, owner)


@pytest.fixture
def data(project):
    return dataset_with(project, "reviews", {"train/a.csv": b"x,y\n1,2\n"})


def create(owner, project, version, data, **changes) -> dict:
    body = training_body(version, data, input_path="train", **changes)
    response = post_pipeline(api_client(owner), project, body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_field_left_out_takes_the_services_default(owner, project, version, data, settings):
    settings.RUN_CPUS, settings.RUN_MEMORY_GB, settings.RUN_DISK_GB = 1, 3.0, None
    answer = create(owner, project, version, data, resources={"memory_gb": 0.5, "disk_gb": 2})
    expected = {"cpus": 1, "memory_gb": 0.5, "disk_gb": 2.0, "gpus": 0}
    assert answer["resources"] == expected
    assert answer["runs"][0]["resources"] == expected
    assert answer["gpu"] is False


def test_a_pipeline_without_resources_gives_its_runs_the_defaults(
    owner, project, version, data, settings
):
    settings.RUN_CPUS, settings.RUN_MEMORY_GB = 2, 6.0
    answer = create(owner, project, version, data)
    run = Run.objects.get(id=answer["runs"][0]["id"])
    assert (run.cpus, run.memory_gb, run.disk_gb, run.gpus) == (2, 6.0, None, 0)


def test_a_run_keeps_the_resources_it_was_given_when_the_defaults_change(
    owner, project, version, data, settings
):
    answer = create(owner, project, version, data)
    settings.RUN_MEMORY_GB = 64.0
    run = api_client(owner).get(f"/api/v1/projects/{project.id}/runs/{answer['runs'][0]['id']}")
    assert run.json()["resources"]["memory_gb"] == 4.0


def test_the_gpu_switch_means_one_gpu(owner, project, version, data):
    answer = create(owner, project, version, data, gpu=True)
    assert answer["resources"]["gpus"] == 1
    assert answer["gpu"] is True
    counted = create(owner, project, version, data, name="two", gpu=True, resources={"gpus": 2})
    assert counted["resources"]["gpus"] == 2


@pytest.mark.parametrize(
    ("resources", "field"),
    [({"cpus": 0}, "cpus"), ({"memory_gb": "lots"}, "memory_gb"), ({"gpus": -1}, "gpus")],
)
def test_resources_out_of_range_are_refused_naming_the_field(
    owner, project, version, data, resources, field
):
    body = training_body(version, data, input_path="train", resources=resources)
    response = post_pipeline(api_client(owner), project, body)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_the_create_screen_shows_the_defaults_as_placeholders(owner, project, settings):
    settings.RUN_CPUS, settings.RUN_MEMORY_GB = 1, 4.0
    page = logged_in_client(owner).get(f"/projects/{project.id}/pipelines/new").content.decode()
    assert "<legend>Resources</legend>" in page
    assert 'name="cpus" id="id_cpus" min="1" step="1" value="" placeholder="1"' in page
    assert 'placeholder="4.0"' in page
    assert 'placeholder="no cap"' in page


def test_the_create_screen_saves_the_resources_a_person_entered(owner, project, version, data):
    client = logged_in_client(owner)
    form = {
        "name": "limited",
        "type": "training",
        "package": version.package_id,
        "version": version.label,
        "input_dataset": data.id,
        "input_path": "train",
        "schedule_kind": "now",
        "cpus": "2",
        "memory_gb": "1.5",
        "disk_gb": "",
        "gpus": "",
        "param_name": ["artifacts_directory"],
        "param_value": ["artifacts"],
    }
    response = client.post(f"/projects/{project.id}/pipelines/new", form)
    assert response.status_code == 302
    run = Run.objects.get()
    assert (run.cpus, run.memory_gb, run.disk_gb, run.gpus) == (2, 1.5, None, 0)
