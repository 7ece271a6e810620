import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.models import Blob, Dataset
from tests.factories import api_client, fetched, make_dataset, make_project, zip_bytes

FILES = {"readme.txt": "hello", "train/a.csv": "x\n1\n", "train/img/cat.png": b"\x89PNG"}


@pytest.fixture
def owner_api(owner):
    return api_client(owner)


@pytest.fixture
def dataset(project):
    return make_dataset(project, files=FILES)


def base(dataset: Dataset) -> str:
    return f"/api/v1/projects/{dataset.project_id}/datasets/{dataset.id}"


def create(client, project, name="images", description="Cats"):
    body = json.dumps({"name": name, "description": description})
    return client.post(
        f"/api/v1/projects/{project.id}/datasets", body, content_type="application/json"
    )


def put(client, url: str, content: bytes):
    return client.put(url, content, content_type="application/octet-stream")


def test_creating_a_dataset_answers_it(project, owner_api):
    response = create(owner_api, project)
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["description"], body["file_count"], body["size"]) == (
        "images",
        "Cats",
        0,
        0,
    )
    assert Dataset.objects.get(id=body["id"]).project == project


def test_creating_a_dataset_with_a_bad_name_or_body_is_400(project, owner_api, dataset):
    taken = create(owner_api, project, name="reviews").json()
    assert taken["errors"] == [
        {"field": "name", "message": "The project already has a dataset named reviews."}
    ]
    assert create(owner_api, project, name="a b").json()["errors"][0]["field"] == "name"
    url = f"/api/v1/projects/{project.id}/datasets"
    broken = owner_api.post(url, "{", content_type="application/json")
    assert (broken.status_code, broken.json()["errors"][0]["field"]) == (400, "body")
    assert Dataset.objects.count() == 1


def test_the_list_and_one_dataset_carry_counts_and_sizes(project, owner_api, dataset):
    listed = owner_api.get(f"/api/v1/projects/{project.id}/datasets").json()
    assert (listed["count"], listed["next"]) == (1, None)
    assert listed["items"][0]["file_count"] == 3
    one = owner_api.get(base(dataset)).json()
    assert (one["id"], one["size"]) == (dataset.id, 13)
    assert {"created_at", "updated_at", "description"} <= set(one)


def test_the_tree_lists_a_folders_entries_with_the_documented_fields(owner_api, dataset):
    root = owner_api.get(base(dataset) + "/tree").json()
    assert [(item["name"], item["kind"]) for item in root["items"]] == [
        ("train", "folder"),
        ("readme.txt", "file"),
    ]
    train = owner_api.get(base(dataset) + "/tree?path=train").json()["items"]
    folder, file = train
    assert folder == {
        "name": "img",
        "path": "train/img",
        "kind": "folder",
        "size": 4,
        "sha256": None,
        "file_count": 1,
    }
    assert {"name", "path", "kind", "size", "sha256"} <= set(file)
    assert file["sha256"] == dataset.files.get(path="train/a.csv").sha256_id


def test_the_tree_of_an_unknown_folder_is_404(owner_api, dataset):
    assert owner_api.get(base(dataset) + "/tree?path=nowhere").status_code == 404


def test_put_creates_a_file_then_replaces_it(owner_api, dataset):
    url = base(dataset) + "/files/new/deep/data.csv"
    created = put(owner_api, url, b"a,b\n")
    assert created.status_code == 201
    assert created.json()["path"] == "new/deep/data.csv"
    replaced = put(owner_api, url, b"a,b\n1,2\n")
    assert replaced.status_code == 200
    assert replaced.json()["size"] == 8
    assert fetched(owner_api, owner_api.get(url)) == b"a,b\n1,2\n"


def test_put_with_an_unsafe_path_or_over_a_folder_is_400(owner_api, dataset):
    escape = put(owner_api, base(dataset) + "/files/a/../../b", b"x")
    assert escape.json()["errors"] == [
        {"field": "path", "message": "a/../../b: '..' is not allowed in a path."}
    ]
    over_folder = put(owner_api, base(dataset) + "/files/train", b"x")
    assert over_folder.status_code == 400
    assert over_folder.json()["errors"] == [
        {"field": "path", "message": "train: a folder has this name, so it cannot be a file."}
    ]
    assert dataset.files.count() == 3


def test_put_over_the_size_limit_is_refused_before_reading(owner_api, dataset, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    response = put(owner_api, base(dataset) + "/files/big.bin", b"x" * 2048)
    assert response.status_code == 413
    assert not dataset.files.filter(path="big.bin").exists()


def test_upload_sends_many_files_with_their_relative_paths(owner_api, dataset):
    response = owner_api.post(
        base(dataset) + "/upload",
        {
            "path": "batch",
            "files": [SimpleUploadedFile("1.csv", b"1"), SimpleUploadedFile("2.csv", b"2")],
            "paths": ["one/1.csv", "two/2.csv"],
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["count"] == 2
    assert [file["path"] for file in body["files"]] == ["batch/one/1.csv", "batch/two/2.csv"]


def test_upload_extracts_an_archive_into_a_folder(owner_api, dataset):
    archive = SimpleUploadedFile("a.zip", zip_bytes({"x.csv": "x", "sub/y.csv": "y"}))
    response = owner_api.post(base(dataset) + "/upload", {"archive": archive, "path": "train"})
    assert response.status_code == 201
    assert dataset.files.filter(path="train/sub/y.csv").exists()


def test_upload_refusals_list_every_problem_and_change_nothing(owner_api, dataset):
    archive = SimpleUploadedFile("a.zip", zip_bytes({"../x": "1", "ok.csv": "2", "/y": "3"}))
    response = owner_api.post(base(dataset) + "/upload", {"archive": archive})
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"archive"}
    assert len(response.json()["errors"]) == 2
    nothing = owner_api.post(base(dataset) + "/upload", {"path": "x"})
    assert nothing.json()["errors"][0] == {"field": "files", "message": "Choose at least one file."}
    assert dataset.files.count() == 3


def test_a_file_downloads_and_a_folder_is_not_a_file(owner_api, dataset):
    response = owner_api.get(base(dataset) + "/files/train/img/cat.png")
    assert response.status_code == 302
    assert fetched(owner_api, response) == b"\x89PNG"
    assert owner_api.get(base(dataset) + "/files/train").status_code == 404


def test_the_archive_is_a_zip_of_the_folder_with_its_size_announced(owner_api, dataset):
    response = owner_api.get(base(dataset) + "/archive?path=train")
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["a.csv", "img/cat.png"]


def test_delete_removes_a_file_or_a_folder_and_keeps_the_bytes_for_collection(owner_api, dataset):
    assert owner_api.delete(base(dataset) + "/files/readme.txt").status_code == 204
    assert owner_api.delete(base(dataset) + "/files/train").status_code == 204
    assert not dataset.files.exists()
    assert Blob.objects.count() == 3
    assert owner_api.delete(base(dataset) + "/files/train").status_code == 404


def test_a_viewer_reads_but_cannot_write(project, viewer, dataset):
    client = api_client(viewer)
    assert client.get(base(dataset)).status_code == 200
    assert client.get(base(dataset) + "/tree").status_code == 200
    assert client.get(base(dataset) + "/archive").status_code == 200
    assert create(client, project).status_code == 403
    assert put(client, base(dataset) + "/files/x.csv", b"x").status_code == 403
    upload = {"files": [SimpleUploadedFile("x.csv", b"x")]}
    assert client.post(base(dataset) + "/upload", upload).status_code == 403
    assert client.delete(base(dataset) + "/files/readme.txt").status_code == 403
    assert dataset.files.count() == 3


def test_an_outsider_gets_404_everywhere(project, outsider, dataset):
    client = api_client(outsider)
    for response in [
        client.get(f"/api/v1/projects/{project.id}/datasets"),
        create(client, project),
        client.get(base(dataset)),
        client.get(base(dataset) + "/tree"),
        put(client, base(dataset) + "/files/x.csv", b"x"),
        client.post(base(dataset) + "/upload", {"files": [SimpleUploadedFile("x", b"x")]}),
        client.get(base(dataset) + "/files/readme.txt"),
        client.get(base(dataset) + "/archive"),
        client.delete(base(dataset) + "/files/readme.txt"),
    ]:
        assert response.status_code == 404
    assert dataset.files.count() == 3


def test_without_a_token_the_api_answers_401(client, dataset):
    assert client.get(base(dataset) + "/tree").status_code == 401
    assert put(client, base(dataset) + "/files/x.csv", b"x").status_code == 401


def test_a_dataset_of_another_project_is_404(owner_api, project, owner):
    other = make_dataset(make_project(owner, "Other"), "elsewhere")
    url = f"/api/v1/projects/{project.id}/datasets/{other.id}"
    assert owner_api.get(url).status_code == 404


def test_put_streams_a_body_larger_than_what_django_reads_into_memory(owner_api, dataset):
    content = b"0123456789abcdef" * (256 * 1024)
    response = put(owner_api, base(dataset) + "/files/large.bin", content)
    assert (response.status_code, response.json()["size"]) == (201, len(content))
    assert fetched(owner_api, owner_api.get(base(dataset) + "/files/large.bin")) == content
