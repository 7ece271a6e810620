import urllib.request

import pytest

from aicenter.store import get_store
from packages.models import MLPackage
from tests.factories import api_client, package_zip, uploaded


def create(client, project, name="sentiment", content=None):
    return client.post(
        f"/api/v1/projects/{project.id}/packages",
        {"name": name, "description": "Reviews", "file": uploaded(content or package_zip())},
    )


@pytest.fixture
def owner_api(owner):
    return api_client(owner)


@pytest.fixture
def package_id(project, owner_api):
    return create(owner_api, project).json()["id"]


def test_api_upload_makes_version_1_0(project, owner_api):
    response = create(owner_api, project)
    body = response.json()
    assert response.status_code == 201
    assert body["name"] == "sentiment"
    assert [v["version"] for v in body["versions"]] == ["1.0"]
    assert body["versions"][0]["source"] == "upload"
    assert body["versions"][0]["supported_types"] == ["training", "evaluation", "full"]


def test_api_upload_lists_every_problem_with_fields(project, owner_api):
    broken = package_zip(**{"main.py": None, "requirements.txt": None})
    response = create(owner_api, project, content=broken)
    assert response.status_code == 400
    messages = [error["message"] for error in response.json()["errors"]]
    assert {error["field"] for error in response.json()["errors"]} == {"file"}
    assert "main.py is missing at the root of the package." in messages
    assert "requirements.txt is missing at the root of the package." in messages
    assert not MLPackage.objects.exists()


def test_api_upload_lists_each_refused_requirement_line_and_stores_nothing(project, owner_api):
    requirements = "-r base.txt\nscikit-learn>=1.5\npkg @ /opt/pkg\n"
    response = create(owner_api, project, content=package_zip(**{"requirements.txt": requirements}))
    assert response.status_code == 400
    messages = [error["message"] for error in response.json()["errors"]]
    assert [m.split(":")[0] for m in messages] == [
        "requirements.txt, line 1",
        "requirements.txt, line 3",
    ]
    assert "-r reads another file" in messages[0]
    assert "'/opt/pkg' is not an http(s) URL" in messages[1]
    assert not MLPackage.objects.exists()
    assert list(get_store().list("")) == []


def test_api_upload_without_a_file_is_400(project, owner_api):
    response = owner_api.post(f"/api/v1/projects/{project.id}/packages", {"name": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_api_new_major_version(project, owner_api, package_id):
    url = f"/api/v1/projects/{project.id}/packages/{package_id}/versions"
    response = owner_api.post(url, {"file": uploaded(package_zip())})
    assert response.status_code == 201
    assert response.json()["version"] == "2.0"
    listed = owner_api.get(f"/api/v1/projects/{project.id}/packages/{package_id}").json()
    assert [v["version"] for v in listed["versions"]] == ["1.0", "2.0"]


def test_api_lists_packages_with_their_latest_version(project, owner_api, package_id):
    body = owner_api.get(f"/api/v1/projects/{project.id}/packages").json()
    assert body["count"] == 1
    assert body["items"][0]["latest_version"]["version"] == "1.0"


def test_api_one_version_has_the_documented_fields(project, owner_api, package_id):
    url = f"/api/v1/projects/{project.id}/packages/{package_id}/versions/1.0"
    body = owner_api.get(url).json()
    documented = {"version", "major", "minor", "source", "run", "parent", "score", "snapshot"}
    assert documented | {"size", "created_at"} <= set(body)
    assert (body["major"], body["minor"], body["run"]) == (1, 0, None)


def test_api_download_redirects_to_the_zip(project, owner_api, package_id, client):
    url = f"/api/v1/projects/{project.id}/packages/{package_id}/versions/1.0/download"
    response = owner_api.get(url)
    assert response.status_code == 302
    version = MLPackage.objects.get(id=package_id).latest_version
    expected = get_store().get_bytes(version.zip_key)
    if "X-Amz-Signature=" in response.url:
        with urllib.request.urlopen(response.url) as download:
            assert download.read() == expected
    else:
        assert b"".join(client.get(response.url).streaming_content) == expected


def test_api_delete_removes_package_and_zip(project, owner_api, package_id):
    key = MLPackage.objects.get(id=package_id).latest_version.zip_key
    response = owner_api.delete(f"/api/v1/projects/{project.id}/packages/{package_id}")
    assert response.status_code == 204
    assert not MLPackage.objects.exists()
    assert not get_store().exists(key)


def test_api_viewer_reads_but_cannot_write(project, viewer, package_id):
    client = api_client(viewer)
    base = f"/api/v1/projects/{project.id}/packages"
    assert client.get(f"{base}/{package_id}").status_code == 200
    assert create(client, project, name="other").status_code == 403
    assert (
        client.post(f"{base}/{package_id}/versions", {"file": uploaded(package_zip())}).status_code
        == 403
    )
    assert client.delete(f"{base}/{package_id}").status_code == 403
    assert MLPackage.objects.count() == 1


def test_api_outsider_gets_404_everywhere(project, outsider, package_id):
    client = api_client(outsider)
    base = f"/api/v1/projects/{project.id}/packages"
    for response in [
        client.get(base),
        create(client, project, name="other"),
        client.get(f"{base}/{package_id}"),
        client.get(f"{base}/{package_id}/versions/1.0"),
        client.get(f"{base}/{package_id}/versions/1.0/download"),
        client.delete(f"{base}/{package_id}"),
    ]:
        assert response.status_code == 404
    assert MLPackage.objects.count() == 1
