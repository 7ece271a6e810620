"""Zips a dataset refuses whole, before a byte of them is unpacked."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aicenter.store import get_store
from datasets.models import Blob, DatasetFile
from tests.badinput import PeakDiskUse, small_member_bomb
from tests.factories import api_client, make_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_folder(settings, tmp_path):
    """Every upload spools to disk, and staging happens, in a folder of this test's own."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    return tmp_path / "uploads"


def test_a_bomb_of_small_members_is_refused_without_unpacking_it(project, owner, upload_folder):
    dataset = make_dataset(project, files={"readme.txt": "hello"})
    stored_before = sorted(get_store().list(""))
    bomb = small_member_bomb(120)  # 120 MiB of zeros, each member 1 MiB
    url = f"/api/v1/projects/{project.id}/datasets/{dataset.id}/upload"
    with PeakDiskUse(upload_folder) as disk:
        response = api_client(owner).post(url, {"archive": SimpleUploadedFile("a.zip", bomb)})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["field"] == "archive"
    assert "which looks like a zip bomb" in errors[0]["message"]
    assert 0 < disk.peak < 2 * len(bomb)
    assert list(DatasetFile.objects.values_list("path", flat=True)) == ["readme.txt"]
    assert Blob.objects.count() == 1
    assert sorted(get_store().list("")) == stored_before
    assert list(upload_folder.iterdir()) == []
