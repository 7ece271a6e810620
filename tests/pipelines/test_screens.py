"""The Create Pipeline screen, the pipelines list and the pipeline page, with their actions."""

import pytest
from django.urls import reverse
from django_q.models import Schedule

from aicenter.models import Role
from pipelines.models import Pipeline, Run, ScheduleKind, Status
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    package_version_with,
    run_of,
    training_pipeline,
)

HTMX = {"HTTP_HX_REQUEST": "true"}
EVALUATE = "class Main:\n    def evaluate(self, d):\n        return 1.0\n"


@pytest.fixture
def version(project, owner):
    return example_version(project, owner)


@pytest.fixture
def data(project):
    files = {"flowers/train/a.csv": b"x\n1\n", "flowers/test/b.csv": b"x\n2\n"}
    return dataset_with(project, "petals", files)


@pytest.fixture
def pipeline(project, owner, version, data):
    return training_pipeline(project, owner, version, data, input_path="flowers/train")


def create_url(project) -> str:
    return reverse("pipelines:create", args=[project.id])


def refresh(client, project, **fields):
    return client.post(create_url(project) + "?refresh", fields, **HTMX)


def fields_for(version, data, **changes) -> dict:
    return {
        "name": "nightly",
        "type": "training",
        "package": version.package_id,
        "version": version.label,
        "input_dataset": data.id,
        "input_path": "flowers/train",
        "param_name": ["artifacts_directory", "save_training_data", "epochs"],
        "param_value": ["artifacts", "true", "3"],
        "schedule_kind": "now",
        **changes,
    }


def test_the_screen_starts_with_the_default_parameters(project, owner_client, version):
    response = owner_client.get(create_url(project))
    assert [(r.name, r.value) for r in response.context["rows"]] == [
        ("artifacts_directory", "artifacts"),
        ("save_training_data", "false"),
    ]
    assert 'name="param_name" value="artifacts_directory"' in response.text


def test_choosing_a_package_offers_its_majors_and_the_newest_versions(
    project, owner, owner_client, version
):
    package_version_with(project, owner, EVALUATE, name="scorer")
    second = example_version(project, owner, name="flowers-sklearn")
    response = refresh(owner_client, project, type="training", package=second.package_id)
    choices = response.context["choices"]
    assert choices.package == second.package
    assert choices.majors == [1]
    assert choices.version == "1.0"
    assert "<html" not in response.text  # only the form is redrawn
    assert 'id="pipeline-form"' in response.text


def test_changing_the_major_lists_only_its_versions(project, owner, owner_client, version):
    from packages.upload import upload_major_version
    from tests.factories import package_zip, uploaded

    upload_major_version(version.package, uploaded(package_zip()), owner)
    fields = {"type": "training", "package": version.package_id, "version": "1.0"}
    assert refresh(owner_client, project, **fields, major="2").context["choices"].version == "2.0"
    labels = [v.label for v in refresh(owner_client, project, **fields).context["choices"].versions]
    assert labels == ["1.0"]


def test_the_type_decides_which_datasets_the_screen_asks_for(project, owner_client, version):
    training = refresh(owner_client, project, type="training").context["shows"]
    evaluation = refresh(owner_client, project, type="evaluation").context["shows"]
    full = refresh(owner_client, project, type="full").context["shows"]
    assert training == {"input": True, "evaluation": False}
    assert evaluation == {"input": False, "evaluation": True}
    assert full == {"input": True, "evaluation": True}


def test_parameter_rows_are_added_and_removed_in_place(project, owner_client):
    rows = {"param_name": ["a", "b", "c"], "param_value": ["1", "2", "3"]}
    added = refresh(owner_client, project, **rows, add_parameter="1")
    assert [(r.name, r.value) for r in added.context["rows"]] == [
        ("a", "1"),
        ("b", "2"),
        ("c", "3"),
        ("", ""),
    ]
    removed = refresh(owner_client, project, **rows, remove_parameter="1")
    assert [(r.name, r.value) for r in removed.context["rows"]] == [("a", "1"), ("c", "3")]


def test_the_folder_picker_browses_the_dataset_tree(project, owner_client, data):
    root = refresh(owner_client, project, type="training", input_dataset=data.id)
    assert [folder.name for folder in root.context["pickers"][0].folders] == ["flowers"]
    inside = refresh(
        owner_client, project, type="training", input_dataset=data.id, browse_input="flowers"
    )
    picker = inside.context["pickers"][0]
    assert picker.path == "flowers"
    assert [folder.name for folder in picker.folders] == ["test", "train"]
    assert 'name="input_path" id="id_input_path" value="flowers"' in inside.text


def test_the_schedule_part_follows_the_chosen_kind(project, owner_client):
    once = refresh(owner_client, project, schedule_kind="once")
    assert 'name="run_at"' in once.text
    assert 'name="cron"' not in once.text
    cron = refresh(owner_client, project, schedule_kind="recurring", repeat="cron")
    assert 'name="cron"' in cron.text
    assert 'name="every"' not in cron.text
    interval = refresh(owner_client, project, schedule_kind="recurring", repeat="interval")
    assert 'name="every"' in interval.text
    assert 'name="on_overlap"' in interval.text


def test_creating_a_pipeline_now_queues_its_run_and_shows_the_pipeline(
    project, owner_client, version, data
):
    response = owner_client.post(create_url(project), fields_for(version, data))
    pipeline = Pipeline.objects.get()
    assert response.status_code == 302
    assert response.url == pipeline.get_absolute_url()
    run = pipeline.runs.get()
    assert run.parameters == {
        "artifacts_directory": "artifacts",
        "save_training_data": "true",
        "epochs": "3",
    }
    assert run.input_path == "flowers/train"
    page = owner_client.get(response.url)
    assert f"#{run.id}" in page.text


def test_creating_a_recurring_pipeline_shows_its_next_run(project, owner_client, version, data):
    fields = fields_for(version, data, schedule_kind="recurring", repeat="cron", cron="0 3 * * *")
    owner_client.post(create_url(project), fields)
    pipeline = Pipeline.objects.get()
    assert not pipeline.runs.exists()
    page = owner_client.get(pipeline.get_absolute_url())
    assert f"{pipeline.schedule.next_run:%Y-%m-%d} 03:00" in page.text
    listing = owner_client.get(reverse("pipelines:list", args=[project.id]))
    assert f"{pipeline.schedule.next_run:%Y-%m-%d} 03:00" in listing.text


def test_editing_changes_parameters_and_schedule(project, owner_client, pipeline, version, data):
    url = reverse("pipelines:edit", args=[project.id, pipeline.id])
    form = owner_client.get(url)
    assert form.context["values"]["input_path"] == "flowers/train"
    changes = {"schedule_kind": "recurring", "repeat": "interval", "every": "2", "unit": "hours"}
    response = owner_client.post(url, fields_for(version, data, **changes))
    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.parameters["epochs"] == "3"
    assert pipeline.schedule_kind == ScheduleKind.RECURRING
    assert pipeline.interval_minutes == 120
    assert pipeline.schedule.minutes == 120
    assert pipeline.runs.count() == 1  # editing starts nothing


def test_removing_a_pipeline_asks_first_and_keeps_its_runs(project, owner_client, pipeline):
    run = run_of(pipeline, Status.SUCCESSFUL)
    url = reverse("pipelines:delete", args=[project.id, pipeline.id])
    assert "Remove nightly?" in owner_client.get(url).text
    assert Pipeline.objects.exists()
    owner_client.post(url)
    assert not Pipeline.objects.exists()
    run.refresh_from_db()
    assert run.status == Status.SUCCESSFUL
    assert owner_client.get(run.get_absolute_url()).status_code == 200
    scheduled = Run.objects.exclude(id=run.id).get()
    assert scheduled.status == Status.KILLED  # the run still waiting was stopped
    assert not Schedule.objects.filter(name=f"pipeline-{pipeline.id}").exists()


def test_run_now_and_run_again_queue_new_runs(project, owner_client, pipeline):
    first = pipeline.runs.get()
    start = reverse("pipelines:start", args=[project.id, pipeline.id])
    owner_client.post(start)
    again = reverse("pipelines:run-again", args=[project.id, first.id])
    response = owner_client.post(again)
    newest = pipeline.runs.first()
    assert pipeline.runs.count() == 3
    assert response.url == newest.get_absolute_url()
    assert newest.parameters == first.parameters


def test_killing_from_the_list_returns_to_the_list(project, owner_client, pipeline):
    run = pipeline.runs.get()
    listing = reverse("pipelines:list", args=[project.id])
    kill = reverse("pipelines:kill", args=[project.id, run.id])
    assert kill in owner_client.get(listing).text
    response = owner_client.post(kill, {"next": listing})
    assert response.url == listing
    run.refresh_from_db()
    assert run.status == Status.KILLED


def test_an_action_never_returns_to_another_site(project, owner_client, pipeline):
    run = pipeline.runs.get()
    kill = reverse("pipelines:kill", args=[project.id, run.id])
    response = owner_client.post(kill, {"next": "https://elsewhere.example/"})
    assert response.url == run.get_absolute_url()


def test_the_list_filters_by_status_type_and_package(project, owner, owner_client, version, data):
    evaluation = package_version_with(project, owner, EVALUATE, name="scorer")
    running = training_pipeline(project, owner, version, data, name="running")
    Run.objects.filter(pipeline=running).update(status=Status.RUNNING)
    training_pipeline(
        project, owner, evaluation, data, name="scoring", type="evaluation", evaluation_dataset=data
    )
    listing = reverse("pipelines:list", args=[project.id])

    def names(**query):
        page = owner_client.get(listing, query).context["page"]
        return sorted(pipeline.name for pipeline in page)

    assert names() == ["running", "scoring"]
    assert names(status="running") == ["running"]
    assert names(status="scheduled") == ["scoring"]
    assert names(type="evaluation") == ["scoring"]
    assert names(package=str(version.package_id)) == ["running"]
    assert names(status="failed") == []


def test_the_list_is_paginated(project, owner, owner_client, version, data):
    for number in range(27):
        training_pipeline(project, owner, version, data, name=f"p{number}")
    listing = reverse("pipelines:list", args=[project.id])
    assert len(owner_client.get(listing).context["page"]) == 25
    assert len(owner_client.get(listing, {"page": 2}).context["page"]) == 2


def test_the_list_refreshes_itself_through_one_fragment(project, owner_client, pipeline):
    listing = reverse("pipelines:list", args=[project.id])
    page = owner_client.get(listing, {"type": "training"})
    fragment = owner_client.get(listing, {"type": "training"}, **HTMX)
    assert "<html" in page.text
    assert "<html" not in fragment.text
    assert 'id="pipeline-rows"' in fragment.text
    assert 'hx-trigger="every 2s"' in fragment.text  # a run is going: refresh often
    assert "?type=training&amp;page=1" in fragment.text
    Run.objects.update(status=Status.SUCCESSFUL)
    assert 'hx-trigger="every 10s"' in owner_client.get(listing, **HTMX).text


@pytest.mark.parametrize("name", ["create", "edit", "delete", "start", "kill", "run-again"])
def test_a_viewer_may_not_change_pipelines(project, viewer_client, pipeline, name):
    run = pipeline.runs.get()
    args = {
        "create": [project.id],
        "kill": [project.id, run.id],
        "run-again": [project.id, run.id],
    }.get(name, [project.id, pipeline.id])
    url = reverse(f"pipelines:{name}", args=args)
    assert viewer_client.post(url).status_code == 403
    run.refresh_from_db()
    assert run.status == Status.SCHEDULED
    assert Pipeline.objects.count() == 1
    assert Run.objects.count() == 1


def test_a_viewer_reads_the_list_and_the_pipeline_without_actions(
    project, viewer, viewer_client, pipeline
):
    assert project.role_of(viewer) == Role.VIEWER
    listing = viewer_client.get(reverse("pipelines:list", args=[project.id]))
    page = viewer_client.get(pipeline.get_absolute_url())
    assert listing.status_code == page.status_code == 200
    assert "nightly" in listing.text
    for text in [listing.text, page.text]:
        assert ">Kill</button>" not in text
        assert ">Run now</button>" not in text
        assert "Create pipeline" not in text
