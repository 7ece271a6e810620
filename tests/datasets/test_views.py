import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aicenter.store import get_store
from datasets.models import Dataset
from tests.factories import fetched, logged_in_client, make_dataset, zip_bytes

FILES = {
    "readme.txt": "hello",
    "train/a.csv": "x,y\n1,2\n",
    "train/images/cat.png": b"\x89PNG cat",
    "test/b.csv": "x,y\n3,4\n",
}


@pytest.fixture
def dataset(project):
    return make_dataset(project, files=FILES)


@pytest.fixture
def editor_client(editor):
    return logged_in_client(editor)


def url(name: str, dataset: Dataset, *args) -> str:
    return reverse(f"datasets:{name}", args=[dataset.project_id, dataset.id, *args])


def files_part(name: str, content: bytes | str = b"data") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def test_the_list_shows_each_dataset_with_its_files_and_size(project, viewer_client, dataset):
    response = viewer_client.get(reverse("datasets:list", args=[project.id]))
    assert response.status_code == 200
    listed = response.context["datasets"][0]
    assert (listed.name, listed.file_count, listed.total_size) == ("reviews", 4, 29)
    assert "29\xa0bytes" in response.text


def test_an_empty_list_tells_an_editor_what_to_do_next(project, owner_client, viewer_client):
    url_ = reverse("datasets:list", args=[project.id])
    assert "Create a dataset, then upload files" in owner_client.get(url_).text
    viewer_page = viewer_client.get(url_).text
    assert "An editor of the project can create one" in viewer_page
    assert "New dataset" not in viewer_page


def test_an_editor_creates_a_dataset_and_lands_on_it(project, editor_client):
    response = editor_client.post(
        reverse("datasets:create", args=[project.id]), {"name": "images", "description": "Cats"}
    )
    dataset = Dataset.objects.get(name="images")
    assert response.url == dataset.get_absolute_url()
    assert dataset.project == project


def test_creating_a_dataset_with_a_taken_or_unsafe_name_is_refused(project, owner_client, dataset):
    create = reverse("datasets:create", args=[project.id])
    taken = owner_client.post(create, {"name": "reviews"})
    assert taken.status_code == 400
    assert taken.context["form"].errors["name"] == [
        "The project already has a dataset named reviews."
    ]
    assert 'role="alert"' not in taken.text  # under its field, not above the form
    assert "Use letters, digits" in owner_client.post(create, {"name": "a b"}).text
    assert Dataset.objects.count() == 1


def test_the_root_shows_folders_first_then_files_with_humanised_sizes(viewer_client, dataset):
    response = viewer_client.get(dataset.get_absolute_url())
    text = response.text
    assert text.index(">test/<") < text.index(">train/<") < text.index(">readme.txt<")
    assert "4 files · 29\xa0bytes" in text
    assert "Download zip" in text


def test_a_folder_page_has_breadcrumbs_back_to_the_root(viewer_client, dataset):
    response = viewer_client.get(url("folder", dataset, "train/images"))
    assert response.status_code == 200
    assert f'<a href="{url("folder", dataset, "train")}">train</a>' in response.text
    assert f'<a href="{dataset.get_absolute_url()}">reviews</a>' in response.text
    assert "cat.png" in response.text


def test_an_unknown_folder_or_file_is_404(viewer_client, dataset):
    assert viewer_client.get(url("folder", dataset, "nowhere")).status_code == 404
    assert viewer_client.get(url("file", dataset, "train/none.csv")).status_code == 404
    assert viewer_client.get(url("folder", dataset, "a/../b")).status_code == 404


def test_a_viewer_sees_no_write_buttons_and_an_editor_does(viewer_client, editor_client, dataset):
    for label in ["Upload", "New folder", "Delete dataset", "Delete</a>"]:
        assert label not in viewer_client.get(dataset.get_absolute_url()).text
        assert label in editor_client.get(dataset.get_absolute_url()).text


def test_a_viewer_cannot_reach_any_write_page(viewer_client, dataset):
    for name, args in [
        ("upload", []),
        ("upload-zip", []),
        ("folder-create", []),
        ("remove", ["readme.txt"]),
        ("delete", []),
    ]:
        assert viewer_client.get(url(name, dataset, *args)).status_code == 403
        assert viewer_client.post(url(name, dataset, *args)).status_code == 403
    assert dataset.files.count() == 4


def test_an_outsider_gets_404_from_the_dataset_pages(outsider_client, dataset):
    for name, args in [
        ("browse", []),
        ("folder", ["train"]),
        ("file", ["readme.txt"]),
        ("download", ["readme.txt"]),
        ("archive", []),
        ("upload", []),
        ("remove", ["readme.txt"]),
    ]:
        assert outsider_client.get(url(name, dataset, *args)).status_code == 404


def test_a_folder_upload_keeps_the_relative_paths_of_its_files(editor_client, dataset):
    response = editor_client.post(
        url("upload", dataset),
        {
            "path": "train",
            "files": [files_part("1.csv", "1"), files_part("2.csv", "2")],
            "paths": ["batch/one/1.csv", "batch/two/2.csv"],
        },
    )
    assert response.url == url("folder", dataset, "train")
    assert set(dataset.files_under("train/batch").values_list("path", flat=True)) == {
        "train/batch/one/1.csv",
        "train/batch/two/2.csv",
    }


def test_files_uploaded_without_paths_keep_their_names(editor_client, dataset):
    editor_client.post(url("upload", dataset), {"files": [files_part("new.csv")]})
    assert dataset.files.filter(path="new.csv").exists()


def test_a_refused_upload_shows_every_problem_and_changes_nothing(editor_client, dataset):
    response = editor_client.post(
        url("upload", dataset),
        {
            "files": [files_part("a"), files_part("b"), files_part("c")],
            "paths": ["fine.csv", "../up.csv", "readme.txt/inside.csv"],
        },
    )
    assert response.status_code == 400
    assert "../up.csv: &#x27;..&#x27; is not allowed in a path." in response.text
    assert dataset.files.count() == 4


def test_paths_must_match_the_files_one_for_one(editor_client, dataset):
    response = editor_client.post(
        url("upload", dataset), {"files": [files_part("a")], "paths": ["a", "b"]}
    )
    assert "Send one relative path per file" in response.text


def test_the_upload_page_offers_files_a_folder_and_a_zip(editor_client, dataset):
    text = editor_client.get(url("upload", dataset) + "?path=train").text
    assert "Upload into train" in text
    assert "webkitdirectory" in text
    assert 'name="archive"' in text


def test_a_zip_is_extracted_into_the_current_folder(editor_client, dataset):
    archive = SimpleUploadedFile("more.zip", zip_bytes({"c.csv": "c", "deep/d.csv": "d"}))
    response = editor_client.post(url("upload-zip", dataset), {"path": "test", "archive": archive})
    assert response.url == url("folder", dataset, "test")
    assert dataset.files.filter(path="test/deep/d.csv").exists()


def test_a_refused_zip_lists_its_problems(editor_client, dataset):
    archive = SimpleUploadedFile("bad.zip", zip_bytes({"../x": "1", "/abs": "2"}))
    response = editor_client.post(url("upload-zip", dataset), {"archive": archive})
    assert response.status_code == 400
    assert "../x: the path leaves the archive" in response.text
    assert "/abs: the path is absolute." in response.text
    assert dataset.files.count() == 4


def test_an_editor_makes_an_empty_folder(editor_client, dataset):
    response = editor_client.post(url("folder-create", dataset), {"path": "train", "name": "new"})
    assert response.url == url("folder", dataset, "train/new")
    page = editor_client.get(response.url)
    assert "The folder new is empty." in page.text


def test_making_a_folder_over_a_file_is_refused(editor_client, dataset):
    response = editor_client.post(url("folder-create", dataset), {"name": "readme.txt"})
    assert response.status_code == 400
    assert "readme.txt: a file has this name" in response.context["form"].errors["name"][0]


def test_the_new_folder_page_shows_one_label_for_its_one_input(editor_client, dataset):
    page = editor_client.get(url("folder-create", dataset) + "?path=train").text
    assert page.count("<label") == 1
    assert '<label for="id_name">Folder name</label>' in page
    assert '<input type="hidden" name="path" value="train"' in page


def test_deleting_a_file_asks_first(editor_client, dataset):
    confirm = editor_client.get(url("remove", dataset, "train/a.csv"))
    assert "Delete train/a.csv?" in confirm.text
    assert dataset.files.filter(path="train/a.csv").exists()
    response = editor_client.post(url("remove", dataset, "train/a.csv"))
    assert response.url == url("folder", dataset, "train")
    assert not dataset.files.filter(path="train/a.csv").exists()


def test_deleting_a_folder_asks_first_then_removes_all_of_it(editor_client, dataset):
    confirm = editor_client.get(url("remove", dataset, "train"))
    assert "everything in it: 2 files" in confirm.text
    response = editor_client.post(url("remove", dataset, "train"))
    assert response.url == dataset.get_absolute_url()
    assert dataset.files.count() == 2


def test_deleting_a_dataset_asks_first(editor_client, dataset):
    assert "Delete reviews?" in editor_client.get(url("delete", dataset)).text
    editor_client.post(url("delete", dataset))
    assert not Dataset.objects.exists()


def test_the_file_page_previews_a_csv_and_offers_its_download(viewer_client, dataset):
    response = viewer_client.get(url("file", dataset, "train/a.csv"))
    assert response.context["preview"].rows == [["1", "2"]]
    assert "<th>x</th><th>y</th>" in response.text
    assert dataset.files.get(path="train/a.csv").sha256_id in response.text


def test_a_file_downloads_from_the_store_under_its_name(viewer_client, dataset):
    response = viewer_client.get(url("download", dataset, "train/a.csv"))
    assert response.status_code == 302
    assert fetched(viewer_client, response) == b"x,y\n1,2\n"


def test_a_folder_downloads_as_a_zip_of_its_files_with_its_size_announced(viewer_client, dataset):
    response = viewer_client.get(url("folder-archive", dataset, "train"))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/zip"
    assert int(response["Content-Length"]) == len(body)
    assert 'filename="reviews-train.zip"' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == {
            "a.csv": b"x,y\n1,2\n",
            "images/cat.png": b"\x89PNG cat",
        }


def test_the_whole_dataset_downloads_as_a_zip_with_its_empty_folders(
    viewer_client, editor_client, dataset
):
    editor_client.post(url("folder-create", dataset), {"name": "later"})
    response = viewer_client.get(url("archive", dataset))
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert sorted(archive.namelist()) == sorted([*FILES, "later/"])
        assert archive.read("train/images/cat.png") == b"\x89PNG cat"
    assert get_store().exists(dataset.files.get(path="readme.txt").key)


def test_anonymous_visitors_are_sent_to_log_in(client, dataset):
    response = client.get(dataset.get_absolute_url())
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_a_taken_dataset_name_is_said_under_the_name_field(project, editor_client, dataset):
    response = editor_client.post(
        reverse("datasets:create", args=[project.id]), {"name": dataset.name}
    )
    assert response.status_code == 400
    field = response.text.split('for="id_name"')[1].split("</div>")[0]
    assert '<small class="error">' in field
