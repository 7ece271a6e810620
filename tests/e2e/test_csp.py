"""Pages, the API docs and the admin work under the content security policy."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in
from tests.factories import make_dataset, make_project, make_user


@pytest.fixture
def violations(page: Page) -> list[str]:
    """What the browser refused because of the policy, as it reports it on the console."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


def test_pages_api_docs_and_admin_break_no_rule_of_the_policy(live_server, page: Page, violations):
    user = make_user("nadia", is_staff=True, is_superuser=True)
    project = make_project(user, "Reviews")
    dataset = make_dataset(project, "reviews", {"a.csv": "x,y\n1,2\n"})
    log_in(page, live_server.url, "nadia")

    page.goto(f"{live_server.url}/projects/{project.id}/datasets/{dataset.id}/upload")
    expect(page.get_by_role("heading", name="A whole folder")).to_be_visible()
    page.goto(f"{live_server.url}/projects/{project.id}/datasets/{dataset.id}/files/a.csv")
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("AI Center API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("link", name="Projects")).to_be_visible()
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    expect(page.get_by_label("Username")).to_be_visible()
    assert violations == []
