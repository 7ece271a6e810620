import io
import stat
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from aicenter.store import get_store
from datasets.ingest import put_file, upload_files, upload_zip
from datasets.models import Blob, DatasetFile, DatasetFolder
from datasets.tree import create_folder
from tests.factories import dataset_uploads, make_dataset, understating, zip_bytes


def tree_of(dataset) -> dict[str, str]:
    return dict(dataset.files.values_list("path", "sha256"))


def stored_blobs() -> list[str]:
    return [item.key for item in get_store().list("blobs/")]


def as_zip(content: bytes, name: str = "data.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/zip")


def problems(refusal: pytest.ExceptionInfo) -> list[str]:
    return [message for messages in refusal.value.message_dict.values() for message in messages]


@pytest.fixture
def dataset(project, owner):
    return make_dataset(project, files={"train/a.csv": "x,y\n1,2\n", "readme.txt": "hello"})


def test_files_keep_their_relative_paths_below_the_target_folder(dataset):
    upload = upload_files(dataset, "train", dataset_uploads({"b.csv": "1", "sub/c.csv": "2"}))
    assert upload.created == 2
    file = dataset.files.get(path="train/sub/c.csv")
    assert (file.folder, file.size, file.content_type) == ("train/sub", 1, "text/csv")
    assert get_store().get_bytes(file.key) == b"2"


def test_the_same_content_twice_in_one_dataset_stores_one_blob(project):
    dataset = make_dataset(project, files={"a.csv": "same", "b/c.csv": "same"})
    upload_files(dataset, "more", dataset_uploads({"d.csv": "same"}))
    assert dataset.files.count() == 3
    assert Blob.objects.count() == 1
    assert stored_blobs() == [Blob.objects.get().key]


def test_the_same_content_in_two_datasets_stores_one_blob(project):
    first = make_dataset(project, "first", files={"a.csv": "shared bytes"})
    second = make_dataset(project, "second", files={"elsewhere/b.csv": "shared bytes"})
    assert tree_of(first)["a.csv"] == tree_of(second)["elsewhere/b.csv"]
    assert len(stored_blobs()) == 1


def test_a_blob_key_is_made_of_its_hash():
    digest = "ab" + "cd" + "e" * 60
    assert Blob.key_for(digest) == f"blobs/sha256/ab/cd/{digest}"


def test_uploading_a_known_content_puts_nothing_in_the_store(dataset, monkeypatch):
    store = get_store()
    put = []
    original = store.put_many
    monkeypatch.setattr(store, "put_many", lambda items: put.extend(items) or original(items))
    upload_files(dataset, "copy", dataset_uploads({"a.csv": "x,y\n1,2\n"}))
    assert put == []


def test_replacing_a_file_changes_its_content_and_says_so(dataset):
    upload = upload_files(dataset, "train", dataset_uploads({"a.csv": "new", "z.csv": "z"}))
    assert upload.replaced == {"train/a.csv"}
    assert upload.created == 1
    file = dataset.files.get(path="train/a.csv")
    assert get_store().get_bytes(file.key) == b"new"
    assert file.size == 3


def test_one_bad_path_refuses_the_whole_upload_and_changes_nothing(dataset):
    before = tree_of(dataset)
    files = dataset_uploads({"good.csv": "1", "../escape.csv": "2", "/abs.csv": "3"})
    with pytest.raises(ValidationError) as refusal:
        upload_files(dataset, "", files)
    assert len(refusal.value.message_dict["files"]) == 2
    assert tree_of(dataset) == before
    assert len(stored_blobs()) == 2


def test_a_bad_target_folder_is_refused(dataset):
    with pytest.raises(ValidationError) as refusal:
        upload_files(dataset, "a/../..", dataset_uploads({"x.csv": "1"}))
    assert "'..' is not allowed" in refusal.value.message_dict["path"][0]


def test_a_file_cannot_take_the_name_of_an_existing_folder(dataset):
    with pytest.raises(ValidationError) as refusal:
        upload_files(dataset, "", dataset_uploads({"train": "I am a file"}))
    assert problems(refusal) == ["train: a folder has this name, so it cannot be a file."]


def test_a_folder_cannot_take_the_name_of_an_existing_file(dataset):
    with pytest.raises(ValidationError) as refusal:
        upload_files(dataset, "readme.txt", dataset_uploads({"inner.csv": "1"}))
    assert problems(refusal) == ["readme.txt: a file has this name, so it cannot be a folder."]


def test_a_file_and_a_folder_of_one_upload_cannot_share_a_name(dataset):
    with pytest.raises(ValidationError) as refusal:
        upload_files(dataset, "", dataset_uploads({"new": "file", "new/inner.csv": "1"}))
    assert problems(refusal) == ["new: the upload has both a file and a folder with this name."]


def test_a_file_cannot_take_the_name_of_an_empty_folder(dataset):
    create_folder(dataset, "later")
    with pytest.raises(ValidationError):
        upload_files(dataset, "", dataset_uploads({"later": "file"}))


def test_a_store_failure_leaves_the_tree_as_it_was(dataset, monkeypatch):
    before = tree_of(dataset)

    def broken(items):
        raise OSError("the store is down")

    monkeypatch.setattr(get_store(), "put_many", broken)
    with pytest.raises(OSError):
        upload_files(dataset, "train", dataset_uploads({"a.csv": "replacement", "b.csv": "b"}))
    assert tree_of(dataset) == before


def test_a_failure_while_registering_rolls_every_row_back(dataset, monkeypatch):
    before = tree_of(dataset)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(DatasetFolder.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        upload_files(dataset, "train", dataset_uploads({"a.csv": "replacement", "b.csv": "b"}))
    assert tree_of(dataset) == before


def test_a_zip_is_extracted_into_the_target_folder_with_its_empty_folders(dataset):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("images/cat.png", b"\x89PNG cat")
        zipped.writestr("images/dog.png", b"\x89PNG dog")
        zipped.writestr("labels.csv", "file,label\ncat.png,cat\n")
        zipped.writestr("empty/", b"")
    upload = upload_zip(dataset, "train", as_zip(archive.getvalue()))
    assert upload.created == 3
    assert set(tree_of(dataset)) >= {"train/images/cat.png", "train/labels.csv"}
    assert dataset.has_folder("train/empty")
    assert not DatasetFolder.objects.filter(path="train/images").exists()


def test_a_zip_with_one_bad_member_changes_nothing_and_lists_every_problem(dataset):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("fine.csv", "1")
        zipped.writestr("../escape.csv", "2")
        link = zipfile.ZipInfo("link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(link, "/etc/passwd")
        zipped.writestr("a//b.csv", "3")
    before = tree_of(dataset)
    with pytest.raises(ValidationError) as refusal:
        upload_zip(dataset, "", as_zip(archive.getvalue()))
    messages = refusal.value.message_dict["archive"]
    assert "../escape.csv: the path leaves the archive's folder (..)." in messages
    assert "link: symbolic links are not allowed." in messages
    assert any(
        message.startswith("a//b.csv: the path has an empty segment") for message in messages
    )
    assert tree_of(dataset) == before
    assert len(stored_blobs()) == 2


def test_a_zip_over_the_dataset_limits_is_refused(dataset, settings):
    settings.DATASET_MAX_ENTRIES = 2
    settings.DATASET_MAX_UNCOMPRESSED_BYTES = 10
    content = zip_bytes({"a.csv": "0123456789", "b.csv": "1", "c.csv": "2"})
    with pytest.raises(ValidationError) as refusal:
        upload_zip(dataset, "", as_zip(content))
    messages = refusal.value.message_dict["archive"]
    assert "The zip has 3 entries; at most 2 are allowed." in messages
    assert "The zip unpacks to 12 bytes; at most 10 are allowed." in messages


def test_a_zip_bomb_is_refused(dataset):
    content = zip_bytes({"bomb.bin": b"\0" * (20 * 1024 * 1024)})
    with pytest.raises(ValidationError) as refusal:
        upload_zip(dataset, "", as_zip(content))
    assert "looks like a zip bomb" in refusal.value.message_dict["archive"][0]


def test_a_zip_member_that_would_replace_a_folder_by_a_file_is_refused(dataset):
    with pytest.raises(ValidationError) as refusal:
        upload_zip(dataset, "", as_zip(zip_bytes({"train": "file"})))
    assert refusal.value.message_dict["archive"] == [
        "train: a folder has this name, so it cannot be a file."
    ]


def test_a_file_that_is_not_a_zip_is_refused(dataset):
    with pytest.raises(ValidationError) as refusal:
        upload_zip(dataset, "", as_zip(b"not a zip at all"))
    assert refusal.value.message_dict["archive"] == ["The file is not a zip archive."]


def test_put_creates_then_replaces_one_file(dataset):
    created = put_file(dataset, "train/new.csv", iter([b"a,b\n", b"1,2\n"]))
    assert created.created == 1
    replaced = put_file(dataset, "train/new.csv", iter([b"changed"]))
    assert replaced.replaced == {"train/new.csv"}
    file = dataset.files.get(path="train/new.csv")
    assert get_store().get_bytes(file.key) == b"changed"


def test_put_over_the_size_limit_is_refused_and_stores_nothing(dataset, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    before = tree_of(dataset)
    with pytest.raises(ValidationError) as refusal:
        put_file(dataset, "big.bin", iter([b"x" * 1000, b"x" * 1000]))
    assert refusal.value.message_dict["body"] == [
        "The file is larger than the limit of 1,024 bytes."
    ]
    assert tree_of(dataset) == before
    assert not DatasetFile.objects.filter(path="big.bin").exists()
    assert len(stored_blobs()) == 2


def test_updating_the_tree_moves_the_datasets_update_time(dataset):
    before = dataset.updated_at
    put_file(dataset, "later.csv", iter([b"1"]))
    dataset.refresh_from_db()
    assert dataset.updated_at > before


def test_a_file_django_spooled_to_disk_is_hashed_where_it_lies(dataset):
    spooled = TemporaryUploadedFile("big.bin", "application/octet-stream", 0, None)
    spooled.write(b"on disk" * 1000)
    spooled.flush()
    upload = upload_files(dataset, "", [("big.bin", spooled)])
    assert upload.files[0].size == 7000
    assert get_store().get_bytes(upload.files[0].key) == b"on disk" * 1000


def test_an_upload_reports_the_folder_it_went_into(dataset):
    assert upload_files(dataset, "/train/", dataset_uploads({"x.csv": "1"})).folder == "train"
    assert put_file(dataset, "a/b/c.csv", iter([b"1"])).folder == "a/b"


def test_a_zip_that_understates_a_members_size_is_refused_and_stores_nothing(dataset):
    content = understating(zip_bytes({"zeros.bin": b"\0" * 100_000}), "zeros.bin", 10)
    before, blobs = tree_of(dataset), stored_blobs()
    with pytest.raises(ValidationError) as refusal:
        upload_zip(dataset, "", as_zip(content))
    assert any("zeros.bin" in problem for problem in problems(refusal)), problems(refusal)
    assert tree_of(dataset) == before
    assert stored_blobs() == blobs
