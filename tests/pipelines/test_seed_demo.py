from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from aicenter.models import Project
from pipelines.management.commands.seed_demo import demo_password
from pipelines.models import ScheduleKind, Status


@pytest.mark.django_db
def test_the_demo_project_has_a_nightly_pipeline_made_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    pipeline = Project.objects.get(name="Demo").pipelines.get(name="flowers-nightly")
    assert pipeline.schedule_kind == ScheduleKind.RECURRING
    assert (pipeline.next_fire.hour, pipeline.next_fire.minute) == (3, 0)
    assert pipeline.input_path == "train"
    assert not pipeline.runs.exists()
    assert out.getvalue().count("Created the pipeline flowers-nightly: cron 0 3 * * *.") == 1


@pytest.mark.django_db
def test_the_first_launch_starts_one_run_of_the_epochs_example_for_its_curves():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    pipeline = Project.objects.get(name="Demo").pipelines.get(name="flowers-epochs")
    assert str(pipeline.package_version) == "flowers-sklearn 1.0"
    assert (pipeline.input_dataset.name, pipeline.input_path) == ("flowers", "train")
    assert pipeline.parameters["epochs"] == "30"
    (run,) = pipeline.runs.all()
    assert run.status == Status.SCHEDULED
    assert out.getvalue().count("Started the pipeline flowers-epochs") == 1


@pytest.mark.django_db
def test_the_first_run_can_be_left_out(settings):
    settings.DEMO_FIRST_RUN = False
    call_command("seed_demo", stdout=StringIO())
    assert [p.name for p in Project.objects.get(name="Demo").pipelines.all()] == ["flowers-nightly"]


@pytest.mark.django_db
def test_the_demo_password_is_made_once_per_data_folder_and_kept_private(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "first"
    settings.DATA_DIR.mkdir()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    password = (settings.DATA_DIR / "demo_password").read_text()
    call_command("seed_demo", stdout=out)  # the next start on the same data folder

    assert out.getvalue().count(f"Log in as 'demo' with password {password!r}.") == 2
    assert len(password) >= 16
    assert (settings.DATA_DIR / "demo_password").stat().st_mode & 0o777 == 0o600
    assert get_user_model().objects.get(username="demo").check_password(password)
    assert demo_password(tmp_path / "second") != password
    assert demo_password(settings.DATA_DIR) == password


@pytest.mark.django_db
def test_seed_demo_does_not_print_a_password_the_demo_user_no_longer_has(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    user = get_user_model().objects.get(username="demo")
    user.set_password("changed by its owner")
    user.save()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Log in as 'demo' with the password you gave it." in out.getvalue()
    assert demo_password(tmp_path) not in out.getvalue()
