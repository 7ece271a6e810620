"""The pages of a busy project ask the database as many times as those of a quiet one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import api_client, make_project
from tests.pipelines.builders import history, page_urls

QUIET = {"versions": 2, "pipelines": 2, "runs": 3}
BUSY = {"versions": 40, "pipelines": 30, "runs": 120}


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def quiet_and_busy(owner):
    quiet = make_project(owner, "Quiet")
    busy = make_project(owner, "Busy")
    return (
        page_urls(quiet, history(quiet, owner, **QUIET)),
        page_urls(busy, history(busy, owner, **BUSY)),
    )


@pytest.mark.parametrize("page", ["pipelines", "run", "package", "pipeline"])
def test_a_pages_queries_do_not_grow_with_its_rows(owner_client, quiet_and_busy, page):
    quiet, busy = quiet_and_busy
    queries(owner_client, quiet[page])  # the session and the user are cached after this
    assert queries(owner_client, busy[page]) == queries(owner_client, quiet[page])


def test_the_apis_pipeline_list_asks_as_often_for_a_busy_project(owner, quiet_and_busy):
    quiet, busy = quiet_and_busy
    api = api_client(owner)
    queries(api, quiet["api-pipelines"])
    assert queries(api, busy["api-pipelines"]) == queries(api, quiet["api-pipelines"])
