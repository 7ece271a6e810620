import os
import uuid

import pytest
from django.dispatch import receiver
from django.test.signals import setting_changed
from django.utils import translation

from aicenter.store import get_store
from tests.factories import logged_in_client, make_project, make_user
from tests.workers import Workers

pytest_plugins = ["tests.s3server"]

# AICENTER_TEST_STORE=s3 runs the whole suite against the S3 server instead of a folder.
TEST_STORE = os.environ.get("AICENTER_TEST_STORE", "local")


@receiver(setting_changed)
def _forget_store(*, setting: str, **kwargs) -> None:
    """The store is made once per process: a test that changes STORE gets a new one."""
    if setting == "STORE":
        get_store.cache_clear()


@pytest.fixture(autouse=True)
def isolated_store(request, settings, tmp_path):
    """Each test writes to its own folder, or its own prefix of the session's bucket."""
    if TEST_STORE == "s3":
        s3_server = request.getfixturevalue("s3_server")
        settings.STORE = s3_server.store_config("aicenter-tests", f"t-{uuid.uuid4().hex}")
    else:
        settings.STORE = {"kind": "local", "root": str(tmp_path / "store")}
    return settings.STORE


@pytest.fixture(autouse=True)
def default_language():
    """A request in Japanese leaves Japanese active in the thread (LocaleMiddleware activates a
    language and never resets it): each test starts in the site's default."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def isolated_kept_uploads(settings, tmp_path):
    settings.KEPT_UPLOAD_DIR = tmp_path / "kept"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hashing persona passwords properly costs most of a test's time and proves nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def owner(db):
    return make_user("olivia")


@pytest.fixture
def editor(db):
    return make_user("eddie")


@pytest.fixture
def viewer(db):
    return make_user("vera")


@pytest.fixture
def outsider(db):
    return make_user("oscar")


@pytest.fixture
def project(owner, editor, viewer):
    return make_project(owner, "Vision", editor=editor, viewer=viewer)


@pytest.fixture
def owner_client(owner):
    return logged_in_client(owner)


@pytest.fixture
def viewer_client(viewer):
    return logged_in_client(viewer)


@pytest.fixture
def outsider_client(outsider):
    return logged_in_client(outsider)


@pytest.fixture
def workers(tmp_path):
    """Real qcluster processes on the test's database, broker and store; stopped afterwards."""
    started = Workers(tmp_path)
    yield started
    started.stop_all()
