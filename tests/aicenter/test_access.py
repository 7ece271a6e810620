"""Walks the URL configuration, so that no view can be forgotten.

Every project URL answers 404 to an outsider, refuses every write of a viewer
and changes nothing, and every URL that needs an account sends an anonymous
visitor to the login page (pages) or answers 401 (API).
"""

from django.apps import apps
from django.test import Client
from django.urls import reverse

from tests.aicenter.urlwalk import PUBLIC, all_urls, project_urls
from tests.factories import api_client, logged_in_client

WRITE_METHODS = ["post", "put", "patch", "delete"]
APPS_WITH_DATA = ["auth", "aicenter", "packages", "datasets", "pipelines"]
# Written on every authenticated request; not a change the request asked for.
BOOKKEEPING_FIELDS = {"last_used_at", "last_login"}
# POSTs that only ask a question (their body is too long for a query string): a viewer may.
QUESTIONS = ("/held",)


def database_state() -> dict:
    state = {}
    for app in APPS_WITH_DATA:
        for model in apps.get_app_config(app).get_models():
            rows = model.objects.order_by("pk").values()
            state[model._meta.label] = [
                {key: value for key, value in row.items() if key not in BOOKKEEPING_FIELDS}
                for row in rows
            ]
    return state


def test_the_walk_finds_pages_and_api_endpoints(furnished):
    urls = project_urls(furnished)
    project_id = furnished["project_id"]
    assert f"/projects/{project_id}/members/" in urls
    assert f"/api/v1/projects/{project_id}" in urls
    assert f"/projects/{project_id}/datasets/{furnished['dataset_id']}/remove/x" in urls


def answers(client, url: str, methods: list[str]) -> dict[str, int]:
    return {method: getattr(client, method)(url).status_code for method in methods}


def test_outsider_gets_404_from_every_project_url(furnished, outsider):
    page_client, token_client = logged_in_client(outsider), api_client(outsider)
    wrong = []
    for url in project_urls(furnished):
        client = token_client if url.startswith("/api/") else page_client
        statuses = answers(client, url, ["get", *WRITE_METHODS])
        if not set(statuses.values()) <= {404, 405} or 404 not in statuses.values():
            wrong.append((url, statuses))
    assert wrong == []


def test_viewer_can_write_nothing_at_any_project_url(furnished, viewer):
    page_client, token_client = logged_in_client(viewer), api_client(viewer)
    before = database_state()
    wrong, forbidden = [], 0
    for url in project_urls(furnished):
        client = token_client if url.startswith("/api/") else page_client
        statuses = answers(client, url, WRITE_METHODS)
        if url.endswith(QUESTIONS) and statuses["post"] in {200, 400}:
            del statuses["post"]  # the unchanged database below proves it wrote nothing
        if not set(statuses.values()) <= {403, 405}:
            wrong.append((url, statuses))
        forbidden += list(statuses.values()).count(403)
    assert wrong == []
    assert database_state() == before
    assert forbidden > 10


def test_viewer_is_refused_with_a_body_that_would_be_valid(furnished, viewer):
    """A refusal that does not depend on the body being wrong: a complete upload is refused."""
    client = api_client(viewer)
    base = f"/api/v1/projects/{furnished['project_id']}/datasets/{furnished['dataset_id']}"
    response = client.put(f"{base}/files/new.csv", b"a,b\n", content_type="text/csv")
    assert response.status_code == 403
    assert "editor" in response.json()["detail"]
    assert client.get(f"{base}/files/new.csv").status_code == 404


def test_anonymous_is_sent_to_log_in_from_every_page(furnished):
    client, login = Client(), reverse("login")
    wrong = []
    for url, name in all_urls(furnished):
        if name in PUBLIC or url.startswith("/api/"):
            continue
        for method in ["get", *WRITE_METHODS]:
            response = getattr(client, method)(url)
            sent_to_login = response.status_code == 302 and response.url.startswith(
                f"{login}?next="
            )
            if not sent_to_login and response.status_code != 405:
                wrong.append((method, url, response.status_code))
    assert wrong == []


def test_anonymous_gets_401_from_every_api_endpoint(furnished):
    client, wrong = Client(), []
    for url, name in all_urls(furnished):
        if name in PUBLIC or not url.startswith("/api/"):
            continue
        statuses = answers(client, url, ["get", *WRITE_METHODS])
        if not set(statuses.values()) <= {401, 405} or 401 not in statuses.values():
            wrong.append((url, statuses))
    assert wrong == []


def test_a_session_cookie_alone_does_not_authenticate_the_api(furnished, owner):
    """The API trusts only bearer tokens, which is why it needs no CSRF token."""
    client = logged_in_client(owner)
    assert client.get(reverse("members", args=[furnished["project_id"]])).status_code == 200
    assert client.get("/api/v1/projects").status_code == 401
    url = f"/api/v1/projects/{furnished['project_id']}/datasets"
    response = client.post(url, {"name": "sneaky"}, content_type="application/json")
    assert response.status_code == 401
