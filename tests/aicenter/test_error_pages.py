"""Error pages keep the site's layout and offer a way back."""

from django.test import Client

from tests.factories import logged_in_client

BRAND = '<a class="brand" href="/">AI Center</a>'
WAY_BACK = '<a href="/">Back to your projects</a>'


def test_a_missing_page_is_drawn_in_the_layout_with_a_way_back(owner_client):
    response = owner_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "<title>Page not found · AI Center</title>" in response.text
    assert BRAND in response.text
    assert "Log out" in response.text
    assert WAY_BACK in response.text


def test_a_refusal_says_why_in_the_layout_with_a_way_back(project, viewer):
    response = logged_in_client(viewer).get(f"/projects/{project.id}/packages/upload")
    assert response.status_code == 403
    assert "<title>Not allowed · AI Center</title>" in response.text
    assert "This needs the editor role in the project." in response.text
    assert BRAND in response.text
    assert WAY_BACK in response.text


def test_a_failure_is_drawn_in_the_layout_without_its_details(db, settings):
    settings.ROOT_URLCONF = "tests.aicenter.failing_urls"
    response = Client(raise_request_exception=False).get("/failing")
    assert response.status_code == 500
    assert "<title>Something went wrong · AI Center</title>" in response.text
    assert BRAND in response.text
    assert WAY_BACK in response.text
    assert "must not see" not in response.text


def test_the_favicon_is_linked_from_every_page_and_served(client):
    page = client.get("/accounts/login/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert client.get("/favicon.ico")["Location"] == "/static/favicon.svg"
