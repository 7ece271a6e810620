"""A person whose browser asks for Japanese uses the service in AI Center's Japanese words."""

import pytest
from playwright.sync_api import Browser, Page, expect

from pipelines.models import Status
from tests.factories import PASSWORD, make_project, make_user, package_zip, zip_bytes
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    publish,
    run_of,
    store_artifacts,
    training_pipeline,
)


@pytest.fixture
def japanese_page(browser: Browser):
    """A page of a browser set to Japanese: it sends Accept-Language: ja-JP."""
    context = browser.new_context(locale="ja-JP")
    yield context.new_page()
    context.close()


def log_in_japanese(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_create_pipeline_asks_for_the_pipeline_type_in_japanese(live_server, japanese_page):
    user = make_user("haruka")
    project = make_project(user, "Reviews")
    example_version(project, user)
    page = japanese_page
    log_in_japanese(page, live_server.url, "haruka")
    page.goto(f"{live_server.url}/projects/{project.id}/pipelines/")
    page.get_by_role("link", name="パイプラインを作成").click()
    pipeline_type = page.get_by_label("パイプラインの種類")
    expect(pipeline_type).to_be_visible()
    expect(pipeline_type.locator("option", has_text="トレーニングの実行")).to_have_count(1)
    expect(page.get_by_text("パラメーターを追加")).to_be_visible()


def test_a_successful_run_shows_success_and_its_artifacts_in_japanese(live_server, japanese_page):
    user = make_user("haruka")
    project = make_project(user, "Reviews")
    version = example_version(project, user)
    data = dataset_with(project, "petals", {"flowers/train/a.csv": b"x\n1\n"})
    pipeline = training_pipeline(project, user, version, data, input_path="flowers/train")
    run = publish(run_of(pipeline, Status.SUCCESSFUL), score=0.9)
    store_artifacts(run, {"model.txt": b"weights\n"})
    page = japanese_page
    log_in_japanese(page, live_server.url, "haruka")
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.locator("#run-header [data-status=successful]")).to_have_text("成功")
    expect(page.get_by_role("heading", name="成果物 (1)")).to_be_visible()
    expect(page.get_by_role("link", name="model.txt")).to_be_visible()


def test_a_refused_upload_lists_its_problems_in_japanese(live_server, japanese_page):
    user = make_user("haruka")
    project = make_project(user, "Reviews")
    page = japanese_page
    log_in_japanese(page, live_server.url, "haruka")
    page.goto(f"{live_server.url}/projects/{project.id}/packages/upload")
    broken = package_zip(**{"train.py": "class Main:\n    def train(self\n", "main.py": None})
    page.get_by_label("名前").fill("broken")
    page.get_by_label("パッケージの zip").set_input_files(
        files=[{"name": "broken.zip", "mimeType": "application/zip", "buffer": broken}]
    )
    page.get_by_role("button", name="アップロード").click()
    expect(page.get_by_text("train.py、2 行目:")).to_be_visible()
    expect(page.get_by_text("パッケージのルートに main.py がありません。")).to_be_visible()


def test_the_header_chooser_switches_to_english_and_remembers_it(live_server, japanese_page):
    user = make_user("haruka")
    make_project(user, "Reviews")
    page = japanese_page
    log_in_japanese(page, live_server.url, "haruka")
    expect(page.get_by_role("heading", name="プロジェクト")).to_be_visible()
    page.locator("header").get_by_label("言語").select_option("en")
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()


def test_a_refused_dataset_zip_lists_its_problems_in_japanese(live_server, japanese_page):
    user = make_user("haruka")
    project = make_project(user, "Reviews")
    data = dataset_with(project, "petals", {"flowers/a.csv": b"x\n1\n"})
    page = japanese_page
    log_in_japanese(page, live_server.url, "haruka")
    page.goto(f"{live_server.url}/projects/{project.id}/datasets/{data.id}/upload")
    unsafe = zip_bytes({"../up.csv": b"x", "a\\b.csv": b"x"})
    page.get_by_label("zip アーカイブ").set_input_files(
        files=[{"name": "data.zip", "mimeType": "application/zip", "buffer": unsafe}]
    )
    page.get_by_role("button", name="zip をアップロード").click()
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text(
        "../up.csv: パスがアーカイブのフォルダーの外を指しています (..)。"
    )
    expect(problems).to_contain_text("a\\b.csv: パスにバックスラッシュが使われています。")
    expect(page.get_by_role("heading", name="petals のルートにアップロード")).to_be_visible()
