"""Real qcluster worker processes sharing the test database, broker and store."""

import pytest

from tests.factories import api_client
from tests.pipelines.builders import flowers_dataset
from tests.workers import Workers, wait_for  # noqa: F401 - both are imported from here


@pytest.fixture
def flowers(project):
    return flowers_dataset(project)


@pytest.fixture
def api(owner):
    return api_client(owner)
