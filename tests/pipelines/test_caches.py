"""A worker's blob cache and environments trimmed to their caps, on real folders."""

import os
import sys
import time
from pathlib import Path

import pytest

from aicenter.store import LocalStore
from pipelines.runner import stage
from pipelines.runner.caches import (
    cached_blobs,
    room_in_cache,
    trim_blob_cache,
    trim_environments,
)
from pipelines.runner.environments import (
    READY_MARKER,
    SIZE_MARKER,
    ensure_environment,
    environments_root,
    leases,
)
from pipelines.runner.stage import cache_path, stage_folder
from tests.pipelines.builders import dataset_with

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(autouse=True)
def worker_dir(settings, tmp_path):
    settings.WORKER_DIR = tmp_path / "worker"
    return settings.WORKER_DIR


def cached(sha256: str, size: int, used_seconds_ago: float) -> Path:
    path = cache_path(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    used = time.time() - used_seconds_ago
    os.utime(path, (used, used))
    return path


def names_left() -> set[str]:
    return {entry.path.name[:1] for entry in cached_blobs()}


def test_the_blob_cache_drops_the_least_recently_used_until_it_fits(settings):
    for letter, ago in [("a", 40), ("b", 30), ("c", 20), ("d", 10)]:
        cached(letter * 64, 100, ago)
    settings.WORKER_CACHE_MAX_BYTES = 250
    assert trim_blob_cache() == 200
    assert names_left() == {"c", "d"}


def test_blobs_of_the_older_two_level_layout_leave_the_cache_at_its_next_trim(settings):
    kept = cached("b" * 64, 100, 10)
    older = Path(settings.WORKER_DIR) / "blobs" / "aa" / "aa" / ("a" * 64)
    older.parent.mkdir(parents=True)
    older.write_bytes(b"x" * 100)

    assert trim_blob_cache() == 100
    assert kept.exists()
    assert not older.parent.exists()


def test_a_blob_cache_within_its_cap_is_left_whole(settings):
    for letter in "abc":
        cached(letter * 64, 100, 10)
    settings.WORKER_CACHE_MAX_BYTES = 300
    assert trim_blob_cache() == 300
    assert names_left() == {"a", "b", "c"}


def test_room_is_made_for_contents_about_to_be_fetched(settings):
    for letter, ago in [("a", 30), ("b", 20), ("c", 10)]:
        cached(letter * 64, 100, ago)
    settings.WORKER_CACHE_MAX_BYTES = 300
    with room_in_cache(150) as fits:
        assert fits
        assert names_left() == {"c"}
    with room_in_cache(301) as fits:
        assert not fits
        assert names_left() == {"c"}


def test_data_larger_than_the_whole_cache_is_staged_past_it(project, settings, tmp_path):
    settings.WORKER_CACHE_MAX_BYTES = 10
    data = dataset_with(project, "d", {"a.csv": b"eight b.", "b.csv": b"8 bytes!"})
    stage_folder(data, "", tmp_path / "run")
    assert (tmp_path / "run" / "b.csv").read_bytes() == b"8 bytes!"
    assert cached_blobs() == []


def test_staging_counts_as_a_use_so_the_data_staged_last_stays(project, settings, tmp_path):
    old = dataset_with(project, "old", {"a.csv": b"old data"})
    new = dataset_with(project, "new", {"b.csv": b"new data"})
    stage_folder(old, "", tmp_path / "first")
    stage_folder(new, "", tmp_path / "second")
    old_blob = cache_path(old.files.get().sha256_id)
    os.utime(old_blob, (1, 1))  # staged long ago...
    stage_folder(old, "", tmp_path / "third")  # ...and used again now
    settings.WORKER_CACHE_MAX_BYTES = 8
    trim_blob_cache()
    assert old_blob.exists()
    assert not cache_path(new.files.get().sha256_id).exists()


def test_a_staged_file_survives_its_blob_leaving_the_cache(project, settings, tmp_path):
    data = dataset_with(project, "d", {"a.csv": b"kept by the run"})
    stage_folder(data, "", tmp_path / "run")
    settings.WORKER_CACHE_MAX_BYTES = 0
    trim_blob_cache()
    assert cached_blobs() == []
    assert (tmp_path / "run" / "a.csv").read_bytes() == b"kept by the run"


def test_the_cache_stays_within_its_cap_as_staging_fills_it(project, settings, tmp_path):
    settings.WORKER_CACHE_MAX_BYTES = 25
    for number in range(6):
        data = dataset_with(project, f"d{number}", {"a.csv": f"dataset number {number}".encode()})
        stage_folder(data, "", tmp_path / f"run{number}")
        assert sum(entry.size for entry in cached_blobs()) <= 25
        assert (
            tmp_path / f"run{number}" / "a.csv"
        ).read_bytes() == f"dataset number {number}".encode()


class Neighbour(LocalStore):
    """The store, recording what it was asked for, beside another run on the same host that
    caches each content it fetches just before this one does."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.asked: list[str] = []

    def get_many(self, items, read_only: bool = False, in_place: bool = False) -> None:
        items = list(items)
        self.asked += [key for key, _ in items]
        super().get_many(items, read_only, in_place)
        for key, _ in items:
            blob = cache_path(key.rsplit("/", 1)[-1])
            blob.parent.mkdir(parents=True, exist_ok=True)
            super().get_many([(key, blob)], read_only=True)


@pytest.fixture
def neighbour(isolated_store, monkeypatch) -> Neighbour:
    if isolated_store["kind"] != "local":
        pytest.skip("The neighbour is a local store.")
    found = Neighbour(Path(isolated_store["root"]))
    monkeypatch.setattr(stage, "get_store", lambda: found)
    return found


def test_cold_staging_fetches_each_content_once_and_links_it_into_the_cache(
    project, isolated_store, monkeypatch, tmp_path
):
    if isolated_store["kind"] != "local":
        pytest.skip("Counts the local store's fetches.")
    store = LocalStore(Path(isolated_store["root"]))
    asked = []
    monkeypatch.setattr(store, "get_many", lambda items, **options: asked.extend(items) or
                        LocalStore.get_many(store, items, **options))  # fmt: skip
    monkeypatch.setattr(stage, "get_store", lambda: store)
    data = dataset_with(project, "d", {"a.csv": b"same", "sub/copy.csv": b"same", "b.csv": b"b"})

    stage_folder(data, "", tmp_path / "run")

    assert len(asked) == 2
    for path, content in [("a.csv", b"same"), ("sub/copy.csv", b"same"), ("b.csv", b"b")]:
        staged = tmp_path / "run" / path
        assert staged.read_bytes() == content
        assert staged.stat().st_mode & 0o777 == 0o444
        assert staged.stat().st_ino == cache_path(data.files.get(path=path).sha256_id).stat().st_ino
    assert not list((tmp_path / "run").rglob(".*"))


def test_a_content_another_run_cached_meanwhile_still_stages_whole(project, neighbour, tmp_path):
    data = dataset_with(project, "d", {"a.csv": b"first", "sub/b.csv": b"second"})

    stage_folder(data, "", tmp_path / "run")

    assert (tmp_path / "run" / "a.csv").read_bytes() == b"first"
    assert (tmp_path / "run" / "sub" / "b.csv").read_bytes() == b"second"
    assert len(neighbour.asked) == 2
    assert len(cached_blobs()) == 2


def environment(name: str, size: int, used_seconds_ago: float) -> Path:
    root = environments_root() / name
    root.mkdir(parents=True)
    (root / SIZE_MARKER).write_text(str(size))
    (root / READY_MARKER).write_text("")
    used = time.time() - used_seconds_ago
    os.utime(root / READY_MARKER, (used, used))
    return root


def test_environments_are_evicted_least_recently_used_first(settings):
    oldest, middle, newest = (
        environment(n, 100, ago) for n, ago in [("o", 30), ("m", 20), ("n", 9)]
    )
    settings.WORKER_ENVS_MAX_BYTES = 150
    assert trim_environments() == 100
    assert (oldest.exists(), middle.exists(), newest.exists()) == (False, False, True)


def test_an_environment_in_use_is_never_evicted_and_is_built_again_once_gone(settings):
    settings.WORKER_ENVS_MAX_BYTES = 0
    builds = []
    with leases():
        python = ensure_environment(PYTHON, "", on_build=lambda: builds.append(1))
        in_use = python.parent.parent
        os.utime(in_use / READY_MARKER, (1, 1))  # the least recently used of all
        idle = environment("idle", 10, 5)
        trim_environments()
        assert in_use.exists() and not idle.exists()
    assert trim_environments() == 0
    assert not in_use.exists()
    ensure_environment(PYTHON, "", on_build=lambda: builds.append(1))
    assert builds == [1, 1]


def test_a_half_built_environment_is_evicted_like_any_other(settings):
    left = environments_root() / "half-built"
    (left / "lib").mkdir(parents=True)
    (left / "lib" / "module.py").write_text("x = 1\n")
    settings.WORKER_ENVS_MAX_BYTES = 0
    assert trim_environments() == 0
    assert not left.exists()
