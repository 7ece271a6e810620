"""A refused upload lists every problem, and keeps the file it accepted for the next try."""

import re

import pytest
from django.urls import reverse

from aicenter.kept import SESSION_KEY
from packages.models import MLPackage
from tests.factories import logged_in_client, package_zip, uploaded

BROKEN = package_zip(**{"train.py": "class Main:\n  def train(self\n", "main.py": None})


def upload_form(name="sentiment", content=None) -> dict:
    form = {"name": name, "description": "", "python_version": "3.12"}
    if content is not None:
        form["file"] = uploaded(content)
    return form


def kept_token(response) -> str:
    found = re.search(r'name="file_kept" value="([^"]+)"', response.text)
    assert found, "the page carries no kept file"
    return found.group(1)


@pytest.fixture
def taken(project, owner_client):
    url = reverse("packages:upload", args=[project.id])
    owner_client.post(url, upload_form("taken", package_zip()))
    return url


def test_a_duplicate_name_does_not_hide_the_zips_problems(project, owner_client, taken):
    response = owner_client.post(taken, upload_form("taken", BROKEN))
    assert response.status_code == 400
    assert "The project already has a package named taken." in response.text
    assert "train.py, line 2:" in response.text
    assert "main.py is missing at the root of the package." in response.text
    assert 'name="file_kept" value="' not in response.text


def test_a_refused_upload_keeps_the_accepted_zip_for_the_next_try(project, owner_client, taken):
    response = owner_client.post(taken, upload_form("taken", package_zip()))
    assert response.status_code == 400
    assert "package.zip (kept from your last try)" in response.text
    token = kept_token(response)
    assert "/" not in token and "kept" not in token

    response = owner_client.post(taken, {**upload_form("fixed"), "file_kept": token})
    assert response.status_code == 302
    assert MLPackage.objects.get(name="fixed").latest_version.label == "1.0"
    assert SESSION_KEY not in owner_client.session or not owner_client.session[SESSION_KEY]


def test_a_kept_file_counts_only_in_the_session_that_kept_it(project, owner, owner_client, taken):
    token = kept_token(owner_client.post(taken, upload_form("taken", package_zip())))
    other_client = logged_in_client(owner)
    response = other_client.post(taken, {**upload_form("fixed"), "file_kept": token})
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert not MLPackage.objects.filter(name="fixed").exists()


def test_a_kept_file_expires(project, owner_client, taken, settings):
    token = kept_token(owner_client.post(taken, upload_form("taken", package_zip())))
    session = owner_client.session
    session[SESSION_KEY][token]["until"] = 0
    session.save()
    response = owner_client.post(taken, {**upload_form("fixed"), "file_kept": token})
    assert response.status_code == 400
    assert not MLPackage.objects.filter(name="fixed").exists()


def test_a_new_version_upload_keeps_nothing_it_refused(project, owner_client, taken):
    package = MLPackage.objects.get(name="taken")
    url = reverse("packages:version-upload", args=[project.id, package.id])
    response = owner_client.post(url, {"file": uploaded(BROKEN)})
    assert response.status_code == 400
    assert "train.py, line 2:" in response.text
    assert "kept from your last try" not in response.text
