"""Real qcluster worker processes sharing the test database, broker and store."""

import pytest

from packages.examples import EXAMPLES
from tests.factories import api_client
from tests.pipelines.builders import dataset_with
from tests.workers import Workers, wait_for  # noqa: F401 - wait_for is imported from here


@pytest.fixture
def workers(tmp_path):
    started = Workers(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def flowers(project):
    folder = EXAMPLES.parent / "datasets" / "flowers"
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*.csv"))
    }
    return dataset_with(project, "flowers", files)


@pytest.fixture
def api(owner):
    return api_client(owner)
