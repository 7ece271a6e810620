from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from aicenter.models import Project
from pipelines.management.commands.seed_demo import demo_password
from pipelines.models import ScheduleKind, Status


@pytest.mark.django_db
def test_the_demo_project_has_a_nightly_pipeline_and_a_first_run_made_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    pipelines = Project.objects.get(name="Demo").pipelines
    nightly = pipelines.get(name="flowers-nightly")
    assert nightly.schedule_kind == ScheduleKind.RECURRING
    assert (nightly.next_fire.hour, nightly.next_fire.minute) == (3, 0)
    assert nightly.input_path == "train"
    assert not nightly.runs.exists()
    assert out.getvalue().count("Created the pipeline flowers-nightly: cron 0 3 * * *.") == 1
    # The example that reports loss and accuracy per epoch runs once, for the Metrics tab.
    epochs = pipelines.get(name="flowers-epochs")
    assert str(epochs.package_version) == "flowers-sklearn 1.0"
    assert (epochs.input_dataset.name, epochs.input_path) == ("flowers", "train")
    assert epochs.parameters["epochs"] == "30"
    assert [run.status for run in epochs.runs.all()] == [Status.SCHEDULED]
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
