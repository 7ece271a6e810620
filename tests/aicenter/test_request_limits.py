"""Large bodies are taken only by upload views, from members who may upload there.

Each refusal is checked against a body made as it is read: the server must answer
without reading a byte of it, so nothing is spooled.
"""

import pytest
from django.test import Client
from django.urls import reverse

from packages.models import MLPackage
from packages.upload import upload_package
from tests.badinput import LargeBody
from tests.factories import api_client, logged_in_client, make_dataset, package_zip, uploaded

LARGE = 50 * 1024 * 1024
OVER_THE_SMALL_CAP = 1536 * 1024


@pytest.fixture
def upload_folder(settings, tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


@pytest.fixture
def package(project, owner):
    return upload_package(
        project,
        name="sentiment",
        description="",
        python_version="3.12",
        file=uploaded(package_zip()),
        user=owner,
    ).package


@pytest.fixture
def dataset(project):
    return make_dataset(project, files={"readme.txt": "hello"})


def send(client: Client, method: str, url: str, body: LargeBody):
    return client.generic(method, url, **body.environ())


def assert_refused_unread(response, body: LargeBody, upload_folder):
    assert response.status_code == 413
    assert "larger than the limit of 1,048,576 bytes" in response.content.decode()
    assert body.read_bytes == 0
    assert body.peak_spooled == 0
    assert list(upload_folder.iterdir()) == []


@pytest.mark.django_db
def test_an_anonymous_large_post_to_the_login_page_is_refused_unread(upload_folder):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    assert "csrftoken" in client.cookies
    body = LargeBody(LARGE, upload_folder)
    assert_refused_unread(send(client, "POST", "/accounts/login/", body), body, upload_folder)


def test_an_anonymous_large_post_to_the_upload_page_is_refused_unread(project, upload_folder):
    body = LargeBody(LARGE, upload_folder)
    url = reverse("packages:upload", args=[project.id])
    assert_refused_unread(send(Client(), "POST", url, body), body, upload_folder)
    assert not MLPackage.objects.exists()


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_large_api_upload_without_a_valid_token_is_refused_unread(project, upload_folder, token):
    client = Client(headers={"Authorization": f"Bearer {token}"} if token else {})
    body = LargeBody(LARGE, upload_folder)
    url = f"/api/v1/projects/{project.id}/packages"
    response = send(client, "POST", url, body)
    assert_refused_unread(response, body, upload_folder)
    assert response.json()["errors"][0]["message"].startswith("The request is larger than")
    assert not MLPackage.objects.exists()


def test_members_who_may_not_upload_there_are_held_to_the_small_cap(
    project, viewer, outsider, upload_folder
):
    url = f"/api/v1/projects/{project.id}/packages"
    for user in [viewer, outsider]:
        body = LargeBody(LARGE, upload_folder)
        assert_refused_unread(send(api_client(user), "POST", url, body), body, upload_folder)
        body = LargeBody(LARGE, upload_folder)
        page = reverse("packages:upload", args=[project.id])
        response = send(logged_in_client(user), "POST", page, body)
        assert_refused_unread(response, body, upload_folder)


def test_a_signed_in_editors_large_post_to_a_page_that_takes_no_upload_is_refused_unread(
    project, editor, upload_folder
):
    body = LargeBody(LARGE, upload_folder)
    url = reverse("project-create")
    assert_refused_unread(send(logged_in_client(editor), "POST", url, body), body, upload_folder)


def upload_views(project, package, dataset) -> dict[str, tuple[str, str]]:
    """(method, URL) of every view that takes an upload, by the way it is reached."""
    pages = {
        "package page": reverse("packages:upload", args=[project.id]),
        "version page": reverse("packages:version-upload", args=[project.id, package.id]),
        "files page": reverse("datasets:upload", args=[project.id, dataset.id]),
        "zip page": reverse("datasets:upload-zip", args=[project.id, dataset.id]),
    }
    api = f"/api/v1/projects/{project.id}"
    endpoints = {
        "package api": ("POST", f"{api}/packages"),
        "version api": ("POST", f"{api}/packages/{package.id}/versions"),
        "dataset upload api": ("POST", f"{api}/datasets/{dataset.id}/upload"),
        "dataset file api": ("PUT", f"{api}/datasets/{dataset.id}/files/large.bin"),
    }
    return {name: ("POST", url) for name, url in pages.items()} | endpoints


def test_an_editor_may_send_a_large_body_to_every_upload_view(
    project, editor, package, dataset, upload_folder
):
    for name, (method, url) in upload_views(project, package, dataset).items():
        client = api_client(editor) if url.startswith("/api/") else logged_in_client(editor)
        body = LargeBody(OVER_THE_SMALL_CAP, upload_folder)
        response = send(client, method, url, body)
        assert response.status_code != 413, name
        assert body.read_bytes == OVER_THE_SMALL_CAP, name


def test_the_upload_limit_still_holds_for_an_editor(project, editor, upload_folder, settings):
    settings.MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    body = LargeBody(LARGE, upload_folder)
    url = f"/api/v1/projects/{project.id}/packages"
    response = send(api_client(editor), "POST", url, body)
    assert response.status_code == 413
    assert "larger than the limit of 2,097,152 bytes" in response.json()["detail"]
    assert body.read_bytes == 0
