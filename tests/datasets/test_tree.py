import pytest
from django.core.exceptions import ValidationError

from aicenter.store import get_store
from datasets.models import Dataset
from datasets.tree import create_dataset, create_folder, delete_path
from tests.factories import make_dataset

FILES = {
    "readme.txt": "hello",
    "train/a.csv": "aaaa",
    "train/images/1.png": "1",
    "train/images/2.png": "22",
    "test/b.csv": "bb",
    "Train/upper.csv": "U",
    "trainer/c.csv": "c",
}


@pytest.fixture
def dataset(project):
    return make_dataset(project, files=FILES)


def test_the_root_lists_folders_first_with_their_totals_then_its_own_files(dataset):
    folder = dataset.folder("")
    assert [(e.name, e.size, e.file_count) for e in folder.folders] == [
        ("Train", 1, 1),
        ("test", 2, 1),
        ("train", 7, 3),
        ("trainer", 1, 1),
    ]
    assert [file.name for file in folder.files] == ["readme.txt"]
    assert [entry.kind for entry in folder.entries[0:10]] == ["folder"] * 4 + ["file"]


def test_a_folder_lists_only_its_direct_children(dataset):
    folder = dataset.folder("train")
    assert [(e.path, e.file_count) for e in folder.folders] == [("train/images", 2)]
    assert [file.path for file in folder.files] == ["train/a.csv"]
    assert folder.totals() == {"file_count": 3, "total_size": 7}


def test_folders_are_matched_with_their_exact_case_and_name(dataset):
    assert sorted(dataset.files_under("train").values_list("path", flat=True)) == [
        "train/a.csv",
        "train/images/1.png",
        "train/images/2.png",
    ]


def test_listing_reads_only_the_database(dataset):
    get_store().delete_prefix("blobs/")
    folder = dataset.folder("train")
    assert folder.folders[0].size == 3
    assert folder.files[0].size == 4


def test_the_entries_paginate_across_folders_and_files(dataset):
    entries = dataset.folder("").entries
    assert len(entries) == 5
    assert [entry.name for entry in entries[3:5]] == ["trainer", "readme.txt"]
    assert [entry.name for entry in entries[4:]] == ["readme.txt"]


def test_breadcrumbs_lead_from_the_root_to_the_folder(dataset):
    assert dataset.folder("train/images").breadcrumbs == [
        ("train", "train"),
        ("images", "train/images"),
    ]


def test_an_empty_folder_is_listed_and_exists(dataset):
    create_folder(dataset, "validation/later")
    root = dataset.folder("")
    assert "validation" in [entry.name for entry in root.folders]
    assert dataset.has_folder("validation/later")
    assert dataset.folder("validation").folders[0].file_count == 0


def test_a_folder_cannot_be_made_twice_or_over_a_file(dataset):
    with pytest.raises(ValidationError) as refusal:
        create_folder(dataset, "train")
    assert refusal.value.message_dict["path"] == ["train: the folder exists already."]
    with pytest.raises(ValidationError) as refusal:
        create_folder(dataset, "readme.txt/inner")
    assert refusal.value.message_dict["path"] == [
        "readme.txt: a file has this name, so it cannot be a folder."
    ]


def test_deleting_a_file_removes_only_it(dataset):
    assert delete_path(dataset, "train/a.csv") == 1
    assert dataset.files.count() == len(FILES) - 1
    assert dataset.has_folder("train/images")


def test_deleting_a_folder_removes_everything_below_it_and_nothing_beside_it(dataset):
    create_folder(dataset, "train/empty")
    assert delete_path(dataset, "train") == 3
    assert not dataset.has_folder("train")
    assert not dataset.has_folder("train/empty")
    assert dataset.files.filter(path__in=["Train/upper.csv", "trainer/c.csv"]).count() == 2


def test_dataset_names_follow_the_package_rules_and_are_unique(project, dataset):
    with pytest.raises(ValidationError) as refusal:
        create_dataset(project, name=dataset.name)
    assert refusal.value.message_dict["name"] == [
        "The project already has a dataset named reviews."
    ]
    with pytest.raises(ValidationError):
        create_dataset(project, name="../etc")
    assert Dataset.objects.count() == 1


def test_the_summary_counts_files_and_bytes(dataset):
    summary = Dataset.objects.with_summary().get(id=dataset.id)
    assert (summary.file_count, summary.total_size) == (7, 16)
