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


def test_a_refused_upload_shows_every_problem_and_keeps_the_accepted_zip(live_server, page: Page):
    user = make_user("nadia")
    project = make_project(user, "Reviews")
    log_in(page, live_server.url, "nadia")
    upload_url = f"{live_server.url}/projects/{project.id}/packages/upload"
    page.goto(upload_url)
    page.get_by_label("Name").fill("sentiment")
    page.get_by_label("Package zip").set_input_files(
        files=[{"name": "sentiment.zip", "mimeType": "application/zip", "buffer": package_zip()}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="sentiment")).to_be_visible()

    # Two problems of one form, neither of them the zip's.
    page.goto(upload_url)
    page.get_by_label("Name").fill("sentiment")
    page.get_by_label("Python version").evaluate(
        "select => select.add(new Option('Python 2.7', '2.7', true, true))"
    )
    page.get_by_label("Package zip").set_input_files(
        files=[{"name": "reviews.zip", "mimeType": "application/zip", "buffer": package_zip()}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("The project already has a package named sentiment.")).to_be_visible()
    expect(page.get_by_text("Select a valid choice. 2.7 is not one of")).to_be_visible()
    expect(page.get_by_text("reviews.zip (kept from your last try)")).to_be_visible()

    page.get_by_label("Name").fill("reviews")
    page.get_by_label("Python version").select_option("3.12")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="reviews")).to_be_visible()
    expect(page.get_by_role("link", name="1.0", exact=True)).to_be_visible()
