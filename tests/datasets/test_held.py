"""Asking which (path, sha256) a dataset's folder holds, as `aicenter dataset push` does."""

import hashlib
import json

import pytest

from tests.factories import api_client, make_dataset

FILES = {"train/a.csv": "x\n1\n", "train/b.csv": "x\n2\n", "train/img/cat.png": b"\x89PNG"}


def sha(content) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()


@pytest.fixture
def dataset(project):
    return make_dataset(project, files=FILES)


def ask(client, dataset, body: dict, query: str = ""):
    url = f"/api/v1/projects/{dataset.project_id}/datasets/{dataset.id}/held{query}"
    return client.post(url, json.dumps(body), content_type="application/json")


def test_held_names_the_listed_files_the_folder_holds_with_the_same_content(viewer, dataset):
    files = [
        {"path": "a.csv", "sha256": sha("x\n1\n")},
        {"path": "b.csv", "sha256": sha("changed")},
        {"path": "new.csv", "sha256": sha("new")},
        {"path": "img/cat.png", "sha256": sha(b"\x89PNG").upper()},
    ]
    response = ask(api_client(viewer), dataset, {"path": "train", "files": files})
    assert response.status_code == 200
    assert response.json() == {"held": ["a.csv", "img/cat.png"], "others": None}


def test_held_with_others_names_the_folders_files_the_list_leaves_out(owner, dataset):
    files = [{"path": "a.csv", "sha256": sha("x\n1\n")}]
    body = ask(api_client(owner), dataset, {"path": "/train/", "files": files}, "?others=true")
    assert body.json() == {"held": ["a.csv"], "others": ["b.csv", "img/cat.png"]}


def test_held_at_the_root_uses_full_paths(owner, dataset):
    files = [{"path": "train/b.csv", "sha256": sha("x\n2\n")}, {"path": "../x", "sha256": "0"}]
    body = ask(api_client(owner), dataset, {"files": files}, "?others=true").json()
    assert body == {"held": ["train/b.csv"], "others": ["train/a.csv", "train/img/cat.png"]}


def test_held_refuses_too_long_a_list_and_hides_datasets_from_outsiders(owner, outsider, dataset):
    files = [{"path": f"{n}.csv", "sha256": "0"} for n in range(2001)]
    too_many = ask(api_client(owner), dataset, {"files": files})
    assert too_many.status_code == 400
    assert ask(api_client(outsider), dataset, {"files": []}).status_code == 404
