from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in
from tests.factories import make_project, make_user, package_zip


def test_user_uploads_a_package_then_sees_a_broken_ones_problems(live_server, page: Page):
    user = make_user("nadia")
    project = make_project(user, "Reviews")
    log_in(page, live_server.url, "nadia")
    page.goto(f"{live_server.url}/projects/{project.id}/packages/")
    expect(page.get_by_text("No ML packages in Reviews yet.")).to_be_visible()

    page.get_by_role("link", name="Upload package").click()
    page.get_by_label("Name").fill("sentiment")
    page.get_by_label("Package zip").set_input_files(
        files=[{"name": "sentiment.zip", "mimeType": "application/zip", "buffer": package_zip()}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="sentiment")).to_be_visible()
    expect(page.get_by_role("link", name="1.0", exact=True)).to_be_visible()

    page.goto(f"{live_server.url}/projects/{project.id}/packages/upload")
    broken = package_zip(**{"train.py": "class Main:\n    def train(self\n", "main.py": None})
    page.get_by_label("Name").fill("broken")
    page.get_by_label("Package zip").set_input_files(
        files=[{"name": "broken.zip", "mimeType": "application/zip", "buffer": broken}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("train.py, line 2:")).to_be_visible()
    expect(page.get_by_text("main.py is missing at the root of the package.")).to_be_visible()
