"""How each path's cost grows: three sizes a factor of ten apart, each against its baseline
at the same size, timed in turns (bench/growth.py draws the curves)."""

import contextlib
import itertools
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import baselines
from bench.growth import FLAT, LINEAR, STEADY, Curve, Point
from bench.measure import timed
from bench.service import Bench, store
from bench.staging import cleaner, plain_download, stage_into


@dataclass(frozen=True)
class Sizes:
    files: list[int]
    runs: list[int]
    lines: list[int]
    bursts: list[int]
    requests: int  # of each page, at each size


# The sizes are 1,000 / 10,000 / 100,000 files; on the shared two cores here the
# largest alone takes over twenty minutes, so files are ten times fewer unless `--large`.
FULL = Sizes(
    files=[100, 1_000, 10_000],
    runs=[1_000, 10_000, 100_000],
    lines=[10_000, 100_000, 1_000_000],
    bursts=[10, 100, 1_000],
    requests=10,
)
LARGE_FILES = [1_000, 10_000, 100_000]
QUICK = Sizes(files=[2, 20, 200], runs=[10, 100, 1_000], lines=[10, 100, 1_000], bursts=[],
              requests=2)  # fmt: skip
FILE_BYTES = 10 * 1024
UPLOAD_BATCH = 500  # files per upload request, as a client sends a large folder
QUIET_FILES = 10
QUIET_RUNS = 10
BROKER = "redis://127.0.0.1:6379/6"


def curves(bench: Bench, paths: list[str], large: bool = False) -> list[Curve]:
    """The curves of `paths` (data, pages, logs, burst). SeaweedFS takes about 160 small
    objects a second here: its largest size only with `large`."""
    sizes = QUICK if bench.quick else FULL
    found = []
    for kind in bench.stores if "data" in paths else []:
        files = LARGE_FILES if large and not bench.quick else sizes.files
        with store(kind) as where:
            found += data_curves(bench, files, where)
    if "pages" in paths:
        found += page_curves(bench, sizes)
    if "logs" in paths:
        found += log_curves(bench, sizes)
    if "burst" in paths:
        found += burst_curves(bench, sizes.bursts or [1, 10])
    return found


def say(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def repeats_at(bench: Bench, index: int, largest: int) -> int:
    """Fewer repeats where one takes longest: 5, 3 and 1 from the smallest size up."""
    return bench.repeats([5, 3, 1][index] if index < largest else 1)


def alternate(repeats: int, service, baseline, before_service=None, before_baseline=None):
    """Service and baseline timed in turns, each going first every other repeat."""
    turns = [(service, before_service, []), (baseline, before_baseline, [])]
    for repeat in range(repeats):
        for action, before, times in turns if repeat % 2 == 0 else reversed(turns):
            if before:
                before()
            times.append(timed(action))
    return turns[0][2], turns[1][2]


# Data: ingest, listing, the dataset page, snapshot and staging of a folder of N files.

DATA_PATHS = {
    "ingest": ("dataset ingest through the API", "concurrent copies", LINEAR),
    "listing": ("folder listing, first page (API)", f"{QUIET_FILES} files", FLAT),
    "page": ("dataset page", f"{QUIET_FILES} files", FLAT),
    "snapshot": ("snapshot", "cp -al", LINEAR),
    "cold": ("staging cold", "concurrent copies", LINEAR),
    "warm": ("staging warm", "cp -al", LINEAR),
}


def data_curves(bench: Bench, sizes: list[int], where: str) -> list[Curve]:
    from django.conf import settings

    plain = "concurrent GETs" if settings.STORE["kind"] == "s3" else "concurrent copies"
    made = {
        name: Curve(f"{label}, {where}", "files", base.replace("concurrent copies", plain), target)
        for name, (label, base, target) in DATA_PATHS.items()
    }
    project = bench.project(f"Curves data, {where}")
    quiet = ingest(api_client(bench), project, flat_files(bench.scratch("quiet"), QUIET_FILES))
    for index, size in enumerate(sizes):
        say(f"{size:,} files, {where}")
        folder = bench.scratch(f"curve-{size}")
        points = data_points(bench, project, quiet, folder, size, repeats_at(bench, index, 2))
        for name, point in points.items():
            made[name].points.append(point)
        shutil.rmtree(folder)
    return list(made.values())


def data_points(bench: Bench, project, quiet, folder: Path, size: int, repeats: int) -> dict:
    api = api_client(bench)
    files = flat_files(folder / "source", size)
    ingested = []
    service, base = alternate(
        repeats,
        lambda: ingested.append(ingest(api, project, files)),
        lambda: plain_put(files, folder / "plain"),
        lambda: forget_data(project, keep=quiet),
        lambda: shutil.rmtree(folder / "plain", ignore_errors=True),
    )
    dataset = ingested[-1]
    points = {"ingest": Point(size, service, base)}
    points |= listing_points(bench, project, dataset, quiet, size)
    points["snapshot"] = snapshot_point(dataset, folder, size, repeats)
    points |= staging_points(dataset, folder, size, repeats)
    return points


def flat_files(folder: Path, count: int) -> list[tuple[str, Path]]:
    """`count` files of random bytes in one folder: (relative path, path)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        path = folder / f"file-{index:06}.bin"
        path.write_bytes(os.urandom(FILE_BYTES))
        files.append((path.name, path))
    return files


def api_client(bench: Bench):
    from tests.factories import api_client as client_of

    return client_of(bench.owner)


def ingest(api, project, files: list[tuple[str, Path]]):
    """A new dataset holding the files, sent through the API's upload, UPLOAD_BATCH a request."""
    from datasets.tree import create_dataset

    dataset = create_dataset(project, name=f"curve-{time.monotonic_ns()}")
    url = f"/api/v1/projects/{project.id}/datasets/{dataset.id}/upload"
    for batch in itertools.batched(files, UPLOAD_BATCH):
        with contextlib.ExitStack() as handles:
            opened = [handles.enter_context(open(path, "rb")) for _, path in batch]
            body = {"files": opened, "paths": [relative for relative, _ in batch]}
            response = api.post(url, body)
        if response.status_code != 201:
            raise RuntimeError(f"The upload answered {response.status_code}: {response.content}")
    return dataset


def plain_put(files: list[tuple[str, Path]], target: Path) -> None:
    """The same bytes put in the store without the service."""
    from django.conf import settings

    if settings.STORE["kind"] == "s3":
        baselines.s3_upload(settings.STORE, [(path, f"plain/{name}") for name, path in files])
    else:
        baselines.copy_files([(path, target / name) for name, path in files])


def forget_data(project, keep) -> None:
    """The project's datasets but `keep`, and the blobs only they held: the next ingest
    stores every byte again."""
    from django.conf import settings

    from aicenter.store import get_store
    from datasets.models import BATCH, Blob, Dataset, DatasetFile, Snapshot

    # Without its row a blob is put again, over its old object: deleting the objects
    # would cost minutes.
    others = DatasetFile.objects.filter(dataset__project=project).exclude(dataset=keep)
    doomed = set(others.values_list("sha256", flat=True))
    doomed -= set(keep.files.values_list("sha256", flat=True))
    Snapshot.objects.filter(dataset__project=project).delete()
    others.delete()
    Dataset.objects.filter(project=project).exclude(id=keep.id).delete()
    for batch in itertools.batched(doomed, BATCH):
        Blob.objects.filter(sha256__in=batch).delete()
    if settings.STORE["kind"] == "s3":
        get_store().delete_prefix("plain/")


def listing_points(bench: Bench, project, dataset, quiet, size: int) -> dict[str, Point]:
    from django.urls import reverse

    from tests.factories import logged_in_client

    api, browser = api_client(bench), logged_in_client(bench.owner)
    tree = f"/api/v1/projects/{project.id}/datasets/{{}}/tree"
    page = reverse("datasets:browse", args=[project.id, 0]).replace("/0/", "/{}/")
    requests = bench.repeats(10)
    return {
        "listing": page_point(api, tree.format(dataset.id), tree.format(quiet.id), size, requests),
        "page": page_point(browser, page.format(dataset.id), page.format(quiet.id), size, requests),
    }


def snapshot_point(dataset, folder: Path, size: int, repeats: int) -> Point:
    from datasets.models import Snapshot
    from datasets.snapshots import take_snapshot

    linked = folder / "linked"
    service, base = alternate(
        repeats,
        lambda: take_snapshot(dataset),
        lambda: baselines.hard_link_tree(folder / "source", linked),
        lambda: Snapshot.objects.filter(dataset=dataset).delete(),
        lambda: shutil.rmtree(linked, ignore_errors=True),
    )
    Snapshot.objects.filter(dataset=dataset).delete()
    shutil.rmtree(linked, ignore_errors=True)
    return Point(size, service, base)


def staging_points(dataset, folder: Path, size: int, repeats: int) -> dict[str, Point]:
    target, warm_tree = folder / "target", folder / "warm"
    cold = alternate(
        repeats,
        lambda: stage_into(dataset, target),
        lambda: plain_download(dataset, target),
        cleaner(dataset, target, cache=True),
        cleaner(dataset, target, cache=True),
    )
    cleaner(dataset, target, cache=True)()
    stage_into(dataset, target)
    target.rename(warm_tree)
    warm = alternate(
        repeats,
        lambda: stage_into(dataset, target),
        lambda: baselines.hard_link_tree(warm_tree, target),
        cleaner(dataset, target, cache=False),
        cleaner(dataset, target, cache=False),
    )
    cleaner(dataset, target, cache=True)()
    return {"cold": Point(size, *cold), "warm": Point(size, *warm)}


# Pages: the same page of a project with N runs and of a quiet one, requested in turns.


def page_point(client, busy_url: str, quiet_url: str, size: int, requests: int) -> Point:
    queries = counted_queries(client, busy_url)
    busy, quiet = alternate(requests, lambda: get(client, busy_url), lambda: get(client, quiet_url))
    return Point(size, busy, quiet, queries)


def get(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}.")


def counted_queries(client, url: str) -> int:
    get(client, url)  # the session and the user are cached after the first request
    with CaptureQueriesContext(connection) as captured:
        get(client, url)
    return len(captured)


PAGES = ["pipelines list", "run details", "package page", "activity"]


def page_curves(bench: Bench, sizes: Sizes) -> list[Curve]:
    from tests.factories import logged_in_client

    client = logged_in_client(bench.owner)
    made = [Curve(page, "runs", f"{QUIET_RUNS} runs", FLAT) for page in PAGES]
    quiet = busy_project(bench, "Curves quiet", QUIET_RUNS)
    for size in sizes.runs:
        say(f"pages, {size:,} runs")
        busy = busy_project(bench, f"Curves {size} runs", size)
        for curve, busy_url, quiet_url in zip(made, busy, quiet, strict=True):
            curve.points.append(page_point(client, busy_url, quiet_url, size, sizes.requests))
    return made


def busy_project(bench: Bench, name: str, runs: int) -> list[str]:
    """A project with `runs` runs made in bulk (and as many activity lines); its pages' URLs."""
    from django.urls import reverse

    from aicenter.models import Event, EventKind
    from tests.pipelines.builders import history, page_urls

    project = bench.project(name)
    made = history(project, bench.owner, versions=min(runs, 100), pipelines=50, runs=runs)
    Event.objects.bulk_create(
        (
            Event(project=project, kind=EventKind.values[0], message=f"Run {number} ended.")
            for number in range(runs)
        ),
        batch_size=5000,
    )
    urls = page_urls(project, made)
    activity = reverse("activity", args=[project.id])
    return [urls["pipelines"], urls["run"], urls["package"], activity]


# The log: a run with N lines, its logs page (the tail) and the live tail's next lines.


def log_curves(bench: Bench, sizes: Sizes) -> list[Curve]:
    from tests.factories import logged_in_client

    client = logged_in_client(bench.owner)
    made = [
        Curve("run log page (tail)", "lines", f"{QUIET_RUNS} lines", FLAT),
        Curve("run log, live tail's next lines", "lines", f"{QUIET_RUNS} lines", FLAT),
    ]
    quiet = logged_run(bench, QUIET_RUNS, "Curves quiet log")
    for size in sizes.lines:
        say(f"log, {size:,} lines")
        busy = logged_run(bench, size, f"Curves log {size}")
        for curve, busy_url, quiet_url in zip(made, busy, quiet, strict=True):
            curve.points.append(page_point(client, busy_url, quiet_url, size, sizes.requests))
    return made


def add_lines(run, count: int) -> None:
    """`count` lines of output in one statement: made row by row, a million took minutes."""
    from django.utils import timezone

    from pipelines.models import LogLine, Stream

    columns = "run_id, n, time, stream, text"
    numbers = "WITH RECURSIVE line(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM line WHERE n < %s)"
    text = "'epoch ' || n || ': loss 0.' || n"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LogLine._meta.db_table} ({columns}) {numbers} "  # noqa: S608
            f"SELECT %s, n, %s, %s, {text} FROM line",
            [count, run.id, now, Stream.STDOUT],
        )


def logged_run(bench: Bench, lines: int, name: str) -> list[str]:
    """A run with `lines` lines of output, made in bulk; the URLs of its log's tail."""
    from django.urls import reverse

    from tests.pipelines.builders import history

    project = bench.project(name)
    run = history(project, bench.owner, versions=1, pipelines=1, runs=1)[0]
    add_lines(run, lines)
    args = [project.id, run.id]
    lines_url = reverse("pipelines:run-log-lines", args=args) + f"?after={max(lines - 10, 0)}"
    return [reverse("pipelines:run-logs", args=args), lines_url]


# A burst of trivial runs on two worker processes, against the same code in a loop.


def burst_curves(bench: Bench, bursts: list[int]) -> list[Curve]:
    from django.conf import settings

    from bench.runs import FLOWERS, directly, first_run_done, flowers, run_many, upload
    from tests.factories import package_zip, uploaded

    broker = "Redis" if "redis" in settings.Q_CLUSTER else "ORM"
    curve = Curve(f"burst of trivial runs, {broker} broker", "runs", "the code in a loop", STEADY)
    project = bench.project("Curves burst")
    data = flowers(bench, project)
    version = upload(bench, project, "trivial", uploaded(package_zip()))
    run_alone = directly(bench, version, FLOWERS / "train")
    with bench.workers("burst"):
        pipeline = first_run_done(bench, project, version, data)
        for index, count in enumerate(bursts):
            say(f"burst of {count} runs")
            service, loop = alternate(
                bench.repeats([3, 2, 1][index]),
                lambda count=count: run_many(pipeline, count),
                lambda count=count: [run_alone() for _ in range(count)],
            )
            curve.points.append(Point(count, service, loop))
    return [curve]
