"""Walking the URL configuration: every pattern, filled with ids of real objects."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

# URLs that answer without an account, by name. The API's root only ever answers 404.
PUBLIC = {
    "login",
    "logout",
    "healthz",
    "set_language",
    "favicon",
    "store-download",
    "openapi-json",
    "openapi-view",
    "api-root",
}


def url_patterns(resolver=None, prefix=""):
    """(route string, name) of every URL pattern, the admin's aside."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith("admin/"):
                yield from url_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.name


def concrete(route: str, values: dict[str, str]) -> str:
    """Fill a route's parameters from `values`; other ids are 1, other names and paths 'x'."""

    def fill(match):
        converter, name = match.group(1), match.group(2)
        if name in values:
            return str(values[name])
        return "1" if converter == "int" else "x"

    path = re.sub(r"<(?:(\w+):)?(\w+)>", fill, route.lstrip("^").rstrip("$"))
    return "/" + path.replace("\\", "")


def all_urls(values: dict[str, str]) -> list[tuple[str, str | None]]:
    """(url, name) of every pattern, filled from `values`."""
    return sorted({(concrete(route, values), name or "") for route, name in url_patterns()})


def page_urls(values: dict[str, str]) -> list[str]:
    return [url for url, _ in all_urls(values) if not url.startswith("/api/")]


def project_urls(values: dict[str, str]) -> list[str]:
    return sorted({concrete(route, values) for route, _ in url_patterns() if "project_id" in route})
