import time
from datetime import timedelta

import pytest
from django.utils import timezone

from pipelines.models import Run, Status
from pipelines.runner.heartbeat import Heartbeat
from tests.pipelines.builders import dataset_with, example_version, training_pipeline


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_goes_on_while_the_run_is_busy_outside_its_process(project, owner, settings):
    settings.HEARTBEAT_SECONDS = 1
    version = example_version(project, owner)
    run = training_pipeline(
        project, owner, version, dataset_with(project, "d", {"a": b"1"})
    ).runs.get()
    long_ago = timezone.now() - timedelta(hours=1)
    Run.objects.filter(id=run.id).update(status=Status.PACKAGING, heartbeat_at=long_ago)
    with Heartbeat(run.id):
        time.sleep(2.5)  # an environment being installed, say
    run.refresh_from_db()
    assert run.heartbeat_at > long_ago + timedelta(minutes=59)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_leaves_a_finished_run_alone(project, owner, settings):
    settings.HEARTBEAT_SECONDS = 1
    version = example_version(project, owner)
    run = training_pipeline(
        project, owner, version, dataset_with(project, "d", {"a": b"1"})
    ).runs.get()
    ended = timezone.now() - timedelta(hours=1)
    Run.objects.filter(id=run.id).update(status=Status.FAILED, heartbeat_at=ended)
    with Heartbeat(run.id):
        time.sleep(1.5)
    run.refresh_from_db()
    assert run.heartbeat_at == ended
