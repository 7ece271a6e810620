import contextlib
import sqlite3
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from aicenter.models import ApiToken


def test_profile_shows_a_new_token_once(owner, owner_client):
    response = owner_client.post(reverse("token-create"), {"name": "laptop"})
    token = response.context["new_token"]
    assert token in response.text
    assert ApiToken.user_for(token) == owner
    assert token not in owner_client.get(reverse("profile")).text


def test_revoked_token_no_longer_authenticates(owner, owner_client):
    row, token = ApiToken.issue(owner, "old")
    owner_client.post(reverse("token-revoke", args=[row.id]))
    assert ApiToken.user_for(token) is None


def test_a_user_cannot_revoke_another_users_token(owner, outsider_client):
    row, token = ApiToken.issue(owner, "mine")
    response = outsider_client.post(reverse("token-revoke", args=[row.id]))
    assert response.status_code == 404
    assert ApiToken.user_for(token) == owner


def test_only_the_digest_of_a_token_is_stored(owner):
    row, token = ApiToken.issue(owner, "ci")
    assert token not in {row.digest, row.hint}
    assert len(row.digest) == 64


def test_create_api_token_command_prints_a_working_token(owner, client):
    out = StringIO()
    call_command("create_api_token", owner.username, stdout=out)
    token = out.getvalue().strip()
    response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@contextlib.contextmanager
def database_locked_elsewhere():
    """Another process holds SQLite's write lock, as a worker writing a flood of log lines
    does; this connection gives up after 50 ms instead of its configured busy timeout."""
    if connection.vendor != "sqlite":
        pytest.skip("the write lock is SQLite's")
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    connection.cursor().execute("PRAGMA busy_timeout = 50")
    try:
        yield
    finally:
        other.rollback()
        other.close()
        connection.close()  # reopened with the configured timeout


@pytest.mark.django_db(transaction=True)
def test_a_token_still_authenticates_when_its_use_cannot_be_recorded(owner, client, caplog):
    row, token = ApiToken.issue(owner, "ci")
    with database_locked_elsewhere():
        response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "its use could not be recorded" in caplog.text
    row.refresh_from_db()
    assert row.last_used_at is None


def test_a_tokens_use_is_recorded(owner, client):
    row, token = ApiToken.issue(owner, "ci")
    client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    row.refresh_from_db()
    assert row.last_used_at is not None
