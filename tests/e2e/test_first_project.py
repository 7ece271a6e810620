from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in
from tests.factories import make_user


def test_user_logs_in_creates_a_project_and_finds_it_in_the_switcher(live_server, page: Page):
    make_user("nadia")
    log_in(page, live_server.url, "nadia")
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.get_by_text("You are not a member of any project yet.")).to_be_visible()

    page.get_by_role("link", name="New project").first.click()
    page.get_by_label("Name").fill("Invoice reader")
    page.get_by_label("Description").fill("Reads invoices.")
    page.get_by_role("button", name="Create project").click()

    expect(page.get_by_text("Project Invoice reader created.")).to_be_visible()
    expect(page.get_by_role("heading", name="ML packages")).to_be_visible()
    page.get_by_test_id("project-switcher").click()
    expect(
        page.locator(".switcher .menu").get_by_role("link", name="Invoice reader")
    ).to_be_visible()


def test_wrong_password_is_refused(live_server, page: Page):
    make_user("nadia")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
