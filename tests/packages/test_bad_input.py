"""Packages an attacker or a broken tool might send: each refused with its reasons, nothing kept."""

import io
import unicodedata
import zipfile

import pytest
from django.urls import reverse

from aicenter.models import Event, EventKind
from aicenter.store import get_store
from packages.models import MLPackage, PackageVersion
from tests.badinput import UNREADABLE_KINDS, PeakDiskUse, package_bomb
from tests.factories import api_client, package_files, package_zip, uploaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_folder(settings, tmp_path):
    """Every upload spools to disk, in a folder of this test's own."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    return tmp_path / "uploads"


def api_upload(user, project, content: bytes):
    return api_client(user).post(
        f"/api/v1/projects/{project.id}/packages",
        {"name": "sentiment", "description": "", "file": uploaded(content)},
    )


def form_upload(client, project, content: bytes):
    form = {"name": "sentiment", "description": "", "python_version": "3.12"}
    url = reverse("packages:upload", args=[project.id])
    return client.post(url, {**form, "file": uploaded(content)})


def api_messages(response) -> list[str]:
    return [error["message"] for error in response.json()["errors"]]


def assert_nothing_kept(upload_folder=None):
    assert not MLPackage.objects.exists()
    assert not PackageVersion.objects.exists()
    assert list(get_store().list("")) == []
    if upload_folder is not None:
        assert list(upload_folder.iterdir()) == []


def assert_refusal_recorded(message: str):
    event = Event.objects.get(kind=EventKind.PACKAGE_REFUSED)
    assert message in event.message


def test_a_bomb_of_small_members_is_refused_without_unpacking_it(project, owner, upload_folder):
    bomb = package_bomb(120)  # 120 MiB of zeros, each member 1 MiB
    with PeakDiskUse(upload_folder) as disk:
        response = api_upload(owner, project, bomb)
    assert response.status_code == 400
    assert any("which looks like a zip bomb" in m for m in api_messages(response))
    assert "The zip unpacks to 125,8" in api_messages(response)[0]
    assert 0 < disk.peak < 2 * len(bomb), (disk.peak, len(bomb))
    assert_nothing_kept(upload_folder)
    assert_refusal_recorded("looks like a zip bomb")


def test_the_package_limit_is_2_gib_by_default(settings):
    assert settings.PACKAGE_MAX_UNCOMPRESSED_BYTES == 2 * 1024**3


@pytest.mark.parametrize("kind", UNREADABLE_KINDS)
def test_an_unreadable_train_py_is_a_listed_problem_through_the_api(project, owner, kind):
    content = UNREADABLE_KINDS[kind](package_zip(), "train.py")
    response = api_upload(owner, project, content)
    assert response.status_code == 400
    assert "train.py: the entry is damaged or cannot be read." in api_messages(response)
    assert_nothing_kept()
    assert_refusal_recorded("train.py: the entry is damaged or cannot be read.")


@pytest.mark.parametrize("kind", UNREADABLE_KINDS)
def test_an_unreadable_train_py_is_a_listed_problem_on_the_upload_page(project, owner_client, kind):
    content = UNREADABLE_KINDS[kind](package_zip(), "train.py")
    response = form_upload(owner_client, project, content)
    assert response.status_code == 400
    assert "train.py: the entry is damaged or cannot be read." in response.text
    assert_nothing_kept()
    assert_refusal_recorded("train.py: the entry is damaged or cannot be read.")


@pytest.mark.parametrize("kind", UNREADABLE_KINDS)
def test_an_unreadable_train_py_refuses_a_new_version(project, owner, kind):
    package_id = api_upload(owner, project, package_zip()).json()["id"]
    content = UNREADABLE_KINDS[kind](package_zip(), "train.py")
    response = api_client(owner).post(
        f"/api/v1/projects/{project.id}/packages/{package_id}/versions",
        {"file": uploaded(content)},
    )
    assert response.status_code == 400
    assert "train.py: the entry is damaged or cannot be read." in api_messages(response)
    assert PackageVersion.objects.count() == 1
    assert len(list(get_store().list(""))) == 1


def zip_with(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in {**package_files(), **names}.items():
            archive.writestr(name, content)
    return buffer.getvalue()


CLASH = "x: the name is both a file and a folder."
DECOMPOSED = unicodedata.normalize("NFD", "données.csv")
BAD_PATHS = {
    "long name": ({"n" * 300 + ".py": b"x"}, "is longer than 255 bytes."),
    "long path": ({"/".join(["d" * 200] * 25) + "/x.py": b"x"}, "longer than 1,024 bytes."),
    "file beside folder": ({"x": b"file", "x/y.py": b"y"}, CLASH),
    "file and folder entry": ({"x": b"file", "x/": b""}, CLASH),
    "not NFC": ({DECOMPOSED: b"a"}, "is not in Unicode normal form C (NFC)."),
    "control character": ({"bell\x07.py": b"x"}, "cannot contain control characters."),
    "empty segment": ({"a//b.py": b"x"}, "the path has an empty segment"),
}


@pytest.mark.parametrize("case", BAD_PATHS)
def test_a_package_path_a_worker_could_not_write_is_refused_at_upload(project, owner, case):
    names, message = BAD_PATHS[case]
    response = api_upload(owner, project, zip_with(names))
    assert response.status_code == 400
    assert any(message in problem for problem in api_messages(response)), api_messages(response)
    assert_nothing_kept()
    assert_refusal_recorded(message)
