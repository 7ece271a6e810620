"""Every page refuses a write without the CSRF token, and every form on a page carries it."""

import re

from django.test import Client

from tests.aicenter.urlwalk import page_urls
from tests.factories import logged_in_client

WRITE_METHODS = ["post", "put", "patch", "delete"]
POST_FORM = re.compile(r"<form\b[^>]*method=[\"']post[\"'][^>]*>(.*?)</form>", re.S | re.I)


def test_every_page_refuses_a_write_without_the_csrf_token(furnished, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for url in page_urls(furnished):
        for method in WRITE_METHODS:
            response = getattr(client, method)(url)
            assert response.status_code == 403, (method, url, response.status_code)
            assert b"CSRF verification failed" in response.content, (method, url)


def test_the_login_form_refuses_a_post_without_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "olivia", "password": "x"})
    assert response.status_code == 403


def test_every_post_form_on_every_page_carries_the_csrf_token(furnished, owner):
    client = logged_in_client(owner)
    forms_seen = 0
    for url in page_urls(furnished):
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for form in POST_FORM.findall(response.content.decode()):
            forms_seen += 1
            assert 'name="csrfmiddlewaretoken"' in form, (url, form[:200])
    assert forms_seen > 5
