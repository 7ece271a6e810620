"""5. Page latency in a busy project (10,000 runs, 1,000 versions) against a quiet one."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.measure import Row, timed
from bench.service import Bench

BUSY = {"versions": 1000, "pipelines": 50, "runs": 10_000}
QUICK_BUSY = {"versions": 50, "pipelines": 10, "runs": 500}
QUIET = {"versions": 10, "pipelines": 5, "runs": 10}
PAGES = {"pipelines": "pipelines list", "run": "run details", "package": "package page"}


def pages(bench: Bench) -> list[Row]:
    from tests.factories import logged_in_client
    from tests.pipelines.builders import history, page_urls

    busy_size = QUICK_BUSY if bench.quick else BUSY
    busy, quiet = bench.project("Busy"), bench.project("Quiet")
    busy_urls = page_urls(busy, history(busy, bench.owner, **busy_size))
    quiet_urls = page_urls(quiet, history(quiet, bench.owner, **QUIET))
    client = logged_in_client(bench.owner)
    requests = bench.repeats(30)
    rows = []
    for page, name in PAGES.items():
        busy_times, quiet_times = [], []
        busy_queries, quiet_queries = (
            queries(client, busy_urls[page]),
            queries(client, quiet_urls[page]),
        )
        for _ in range(requests):
            busy_times.append(timed(lambda url=busy_urls[page]: get(client, url)))
            quiet_times.append(timed(lambda url=quiet_urls[page]: get(client, url)))
        rows.append(
            Row(
                "5 pages",
                f"{name}, {busy_size['runs']:,} runs, {busy_size['versions']:,} versions "
                f"({busy_queries} queries)",
                "s",
                busy_times,
                f"{QUIET['runs']} runs, {QUIET['versions']} versions ({quiet_queries} queries)",
                quiet_times,
            )
        )
    return rows


def get(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}.")


def queries(client, url: str) -> int:
    get(client, url)  # the session and the user are cached after the first request
    with CaptureQueriesContext(connection) as captured:
        get(client, url)
    return len(captured)
