"""Walks the URL configuration: every project URL answers 404 to an outsider."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import api_client, logged_in_client


def project_routes(resolver=None, prefix=""):
    """Every URL pattern (as a route string) that takes a project id."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from project_routes(entry, route)
        elif isinstance(entry, URLPattern) and "project_id" in route:
            yield route


def concrete(route: str, project_id: int) -> str:
    """Fill a route's parameters: the project, 1 for other ids, 'x' for names and paths."""

    def fill(match):
        converter, name = match.group(1), match.group(2)
        if name == "project_id":
            return str(project_id)
        return "1" if converter == "int" else "x"

    path = re.sub(r"<(?:(\w+):)?(\w+)>", fill, route.lstrip("^").rstrip("$"))
    return "/" + path.replace("\\", "")


def all_project_urls(project_id: int) -> list[str]:
    return sorted({concrete(route, project_id) for route in project_routes()})


def test_the_walk_finds_pages_and_api_endpoints(project):
    urls = all_project_urls(project.id)
    assert f"/projects/{project.id}/members/" in urls
    assert f"/api/v1/projects/{project.id}" in urls


def test_outsider_gets_404_from_every_project_url(project, outsider):
    page_client, token_client = logged_in_client(outsider), api_client(outsider)
    for url in all_project_urls(project.id):
        client = token_client if url.startswith("/api/") else page_client
        statuses = {
            method: getattr(client, method)(url).status_code
            for method in ["get", "post", "put", "delete"]
        }
        assert set(statuses.values()) <= {404, 405}, (url, statuses)
        assert 404 in statuses.values(), (url, statuses)
