"""Security headers, a content security policy every page complies with, HTTPS settings."""

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.aicenter.urlwalk import page_urls
from tests.factories import PASSWORD, api_client, logged_in_client

ROOT = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, str]:
    directives = response["Content-Security-Policy"].split(";")
    return dict(directive.strip().split(" ", 1) for directive in directives if directive.strip())


class InlineCode(HTMLParser):
    """Collects what a strict policy would refuse: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "style" or name.startswith(("on", "hx-on")):
                self.found.append(f"<{tag} {name}=...>")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")
        if tag == "style":
            self.found.append("<style>")
        # A JSON script element is data, never run.
        runs_inline = "src" not in attributes and attributes.get("type") != "application/json"
        if tag == "script" and runs_inline:
            self.found.append("<script> without src")
        for name in ["src", "href"]:
            if (attributes.get(name) or "").startswith(("http://", "https://", "//")):
                self.external.append(attributes[name])


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    return parser


def test_pages_carry_the_security_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    directives = policy(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'self'"


def test_api_answers_carry_the_policy_too(client):
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert policy(response)["default-src"] == "'self'"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_page_holds_inline_code_the_policy_would_refuse(furnished, owner):
    client = logged_in_client(owner)
    checked = 0
    for url in page_urls(furnished):
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parsed = inline_code(response.content.decode())
        assert parsed.found == [], url
        assert parsed.external == [], url
        checked += 1
    assert checked > 10


def test_the_login_page_complies_with_the_policy(client):
    parsed = inline_code(client.get("/accounts/login/").content.decode())
    assert parsed.found == []


def test_api_docs_load_swagger_from_the_service_not_a_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    parsed = inline_code(response.content.decode())
    assert parsed.found == []
    assert parsed.external == []
    assert "/static/ninja/swagger-ui-bundle.js" in response.text


@pytest.fixture
def admin_client(db):
    admin = get_user_model().objects.create_superuser("ada", "ada@example.com", PASSWORD)
    return logged_in_client(admin)


@pytest.mark.parametrize("url", ["/admin/", "/admin/aicenter/project/", "/admin/auth/user/add/"])
def test_admin_pages_comply_with_the_policy(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert inline_code(response.content.decode()).found == []


def test_the_folder_upload_script_is_a_static_file_that_exists(furnished, owner):
    url = f"/projects/{furnished['project_id']}/datasets/{furnished['dataset_id']}/upload"
    response = logged_in_client(owner).get(url)
    assert 'src="/static/js/folder-upload.js"' in response.text
    assert (ROOT / "static" / "js" / "folder-upload.js").exists()


def deploy_check(tmp_path, **variables) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "Q_BROKER"}}
    env.update(
        AICENTER_DATA_DIR=str(tmp_path),
        SECRET_KEY="a-long-random-secret-key-" + "k3y" * 20,
        ALLOWED_HOSTS="ai.example.com",
        **variables,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout + result.stderr


def test_cookies_are_sent_over_plain_http_by_default(tmp_path):
    report = deploy_check(tmp_path)
    assert "security.W012" in report  # session cookie not secure
    assert "security.W016" in report  # CSRF cookie not secure
    assert "security.W008" in report  # no redirect to HTTPS


def test_https_variables_make_cookies_secure_and_redirect(tmp_path):
    report = deploy_check(
        tmp_path,
        SECURE_COOKIES="true",
        BEHIND_HTTPS_PROXY="true",
        HTTPS_REDIRECT="true",
        HSTS_SECONDS="31536000",
    )
    for warning in ["W004", "W008", "W012", "W016"]:
        assert f"security.{warning}" not in report, report


def test_behind_an_https_proxy_the_forwarded_scheme_is_trusted(db, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/healthz").status_code != 301
    forwarded = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.status_code == 200


def test_a_chunked_upload_without_length_is_refused_not_stored_empty(furnished, owner):
    client = api_client(owner)
    base = f"/api/v1/projects/{furnished['project_id']}/datasets/{furnished['dataset_id']}"
    response = client.put(
        f"{base}/files/chunked.csv",
        b"a,b\n",
        content_type="text/csv",
        headers={"Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]
    assert client.get(f"{base}/files/chunked.csv").status_code == 404
