"""Load: 50 runs queued at once on two workers, and the pages' latency while they go."""

import time

from bench.measure import Row, Target, timed
from bench.runs import example_package, finished, first_run_done, flowers
from bench.service import Bench

LOAD_RUNS = 50
RESPONSIVE = Target("median", 0.5, "< 500 ms")
SAMPLE_EVERY = 0.25


def load(bench: Bench) -> list[Row]:
    from tests.factories import logged_in_client

    project = bench.project("Load")
    data = flowers(bench, project)
    version = example_package(bench, project, "flowers-stdlib")
    client = logged_in_client(bench.owner)
    count = 6 if bench.quick else LOAD_RUNS
    with bench.workers("load-a"), bench.workers("load-b"):
        pipeline = first_run_done(bench, project, version, data)
        urls = page_urls(project, pipeline)
        idle = {name: sampled(client, url, bench.repeats(20)) for name, url in urls.items()}
        runs, took, busy = under_load(client, urls, pipeline, count)
    hosts = {run.worker.split(":")[0] for run in runs}
    return [
        Row(
            "7 load",
            f"{count} runs queued at once on two workers ({len(hosts)} took part): until all ended",
            "s",
            [took],
        ),
        *(
            Row(
                "7 load",
                f"{name} while the {count} runs go ({len(busy[name])} requests)",
                "s",
                busy[name],
                "with the workers idle",
                idle[name],
                target=RESPONSIVE,
            )
            for name in urls
        ),
    ]


def page_urls(project, pipeline) -> dict[str, str]:
    from django.urls import reverse

    run = pipeline.runs.first()
    return {
        "pipelines list": reverse("pipelines:list", args=[project.id]),
        "run details": reverse("pipelines:run", args=[project.id, run.id]),
    }


def under_load(client, urls: dict[str, str], pipeline, count: int):
    """Queue the runs, sample every page until they all ended; (runs, seconds, samples)."""
    from django.db import transaction

    from pipelines.models import ACTIVE, Run
    from pipelines.start import start_run

    busy: dict[str, list[float]] = {name: [] for name in urls}
    started = time.perf_counter()
    with transaction.atomic():
        run_ids = [start_run(pipeline).id for _ in range(count)]
    while Run.objects.filter(id__in=run_ids, status__in=ACTIVE).exists():
        for name, url in urls.items():
            busy[name].append(timed(lambda url=url: get(client, url)))
        time.sleep(SAMPLE_EVERY)
    took = time.perf_counter() - started
    return finished(run_ids), took, busy


def sampled(client, url: str, requests: int) -> list[float]:
    get(client, url)
    return [timed(lambda: get(client, url)) for _ in range(requests)]


def get(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}.")
