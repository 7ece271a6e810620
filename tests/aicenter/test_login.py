"""Login attempts are limited per username, counted in the database that all web servers share."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_user

LOGIN = "/accounts/login/"
LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def log_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def fail_times(client: Client, username: str, times: int):
    """Wrong passwords; each is answered with the form's error until the limit is reached."""
    for attempt in range(1, times + 1):
        response = log_in(client, username, "wrong password")
        if attempt < LIMIT:
            assert response.status_code == 200
            assert "correct username and password" in response.text
    return response


def test_a_right_password_logs_in(owner, client):
    response = log_in(client, "olivia", PASSWORD)
    assert response.status_code == 302
    assert client.get("/profile/").status_code == 200


def test_after_too_many_failures_even_the_right_password_is_refused(owner, client):
    assert fail_times(client, "olivia", LIMIT).status_code == 429
    response = log_in(client, "olivia", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts to log in as this user" in response.text
    assert "blocked for 15 minutes" in response.text
    assert client.get("/profile/").status_code == 302


def test_the_lock_holds_for_another_browser_too(owner, client):
    fail_times(client, "olivia", LIMIT)
    assert log_in(Client(), "olivia", PASSWORD).status_code == 429


def test_other_users_are_not_affected(owner, editor, client):
    fail_times(client, "olivia", LIMIT)
    assert log_in(client, "eddie", PASSWORD).status_code == 302


def test_a_success_resets_the_count(owner, client):
    fail_times(client, "olivia", 2)
    assert log_in(client, "olivia", PASSWORD).status_code == 302
    other = Client()
    fail_times(other, "olivia", 2)
    assert log_in(other, "olivia", PASSWORD).status_code == 302


def test_the_admin_login_is_limited_too(db, client):
    make_user("ada", is_staff=True, is_superuser=True)
    for _ in range(LIMIT):
        client.post("/admin/login/", {"username": "ada", "password": "wrong password"})
    response = client.post("/admin/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 429


def test_the_login_page_names_the_site_not_the_host(client):
    response = client.get(LOGIN, HTTP_HOST="127.0.0.1")
    assert "<title>Log in · AI Center</title>" in response.text
    assert '<a class="brand" href="/">AI Center</a>' in response.text
    assert "127.0.0.1" not in response.text
