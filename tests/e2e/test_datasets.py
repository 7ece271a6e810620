import zipfile

from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in
from tests.factories import make_project, make_user

FOLDER = "season 1"
FILES = {
    "train/part one.csv": "text,label\ngreat film,pos\ndull plot,neg\n",
    "train/nested/deeper/notes.txt": "kept three levels down\n",
    "test/Café crème données.csv": "text,label\nun régal,pos\n",
    "readme.md": "# Reviews\n",
}


def write_folder(root) -> None:
    for path, content in FILES.items():
        target = root / FOLDER / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)


def test_user_uploads_a_folder_browses_it_previews_a_csv_and_downloads_it_as_a_zip(
    live_server, page: Page, tmp_path
):
    user = make_user("nadia")
    project = make_project(user, "Reviews")
    write_folder(tmp_path)
    log_in(page, live_server.url, "nadia")

    page.goto(f"{live_server.url}/projects/{project.id}/datasets/")
    expect(page.get_by_text("No datasets in Reviews yet.")).to_be_visible()
    page.get_by_role("link", name="New dataset").first.click()
    page.get_by_label("Name").fill("reviews")
    page.get_by_role("button", name="Create dataset").click()
    expect(page.get_by_text("reviews has no files yet.")).to_be_visible()

    page.get_by_role("link", name="Upload", exact=True).first.click()
    page.get_by_label("Folder").set_input_files(tmp_path / FOLDER)
    page.get_by_role("button", name="Upload folder").click()
    expect(page.get_by_text("Uploaded 4 files.")).to_be_visible()

    page.get_by_role("link", name=f"{FOLDER}/", exact=True).click()
    expect(page.get_by_role("heading", name=FOLDER)).to_be_visible()
    page.get_by_role("link", name="train/", exact=True).click()
    expect(page.get_by_role("link", name="nested/", exact=True)).to_be_visible()
    page.get_by_role("link", name=FOLDER, exact=True).click()
    page.get_by_role("link", name="test/", exact=True).click()
    page.get_by_role("link", name="Café crème données.csv", exact=True).click()
    expect(page.get_by_role("cell", name="un régal")).to_be_visible()
    expect(page.get_by_role("columnheader", name="label")).to_be_visible()
    # As the data writes them: the layout's table headers are upper-cased, a preview's not.
    assert page.locator(".preview-table th").all_inner_texts() == ["text", "label"]

    page.get_by_role("link", name=FOLDER, exact=True).click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download zip").click()
    download = download_info.value
    assert download.suggested_filename == "reviews-season 1.zip"
    with zipfile.ZipFile(download.path()) as archive:
        assert {name: archive.read(name).decode() for name in archive.namelist()} == FILES
