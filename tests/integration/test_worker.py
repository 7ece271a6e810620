"""A real qcluster process takes tasks from the configured broker (ORM or Redis)."""

import pytest
from django_q.models import Success
from django_q.tasks import async_task

from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_runs_a_queued_task_and_stores_its_result(workers):
    workers.start()
    task_id = async_task("math.floor", 2.5)
    wait_for(lambda: Success.objects.filter(id=task_id).exists(), what="the task's result")
    assert Success.objects.get(id=task_id).result == 2
