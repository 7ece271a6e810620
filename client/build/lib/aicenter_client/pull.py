"""`aicenter pull`: a run's outputs into a folder, each file checked for size and sha256."""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aicenter_client.client import Client, NotFound
from aicenter_client.transfer import bar

DOWNLOADS_AT_ONCE = 8
PARTS = ("results", "artifacts", "snapshot", "version")


class Mismatch(Exception):
    """A downloaded file is not what the service listed."""


def inside(root: Path, path: str) -> Path:
    """`path` below `root`; a name that would escape it is refused."""
    target = (root / path).resolve()
    if not target.is_relative_to(root.resolve()):
        raise Mismatch(f"Refusing {path!r}: it would be written outside {root}.")
    return target


def check(path: Path, listed: dict, what: str) -> None:
    size = path.stat().st_size
    if size != listed["size"]:
        raise Mismatch(f"{what}: {size} bytes arrived, {listed['size']} were listed.")
    expected = listed.get("sha256")
    if expected and sha256_of(path) != expected:
        raise Mismatch(f"{what}: its sha256 differs from the one listed.")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def download_checked(client: Client, url: str, target: Path, listed: dict, on_bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        client.download(url, out, on_bytes)
    check(target, listed, str(target))


def pull_results(client: Client, project: int, run: dict, out: Path, quiet: bool) -> list[Path]:
    try:
        results = client.results(project, run["id"])
    except NotFound:
        return []
    target = out / "_results.json"
    target.write_text(json.dumps(results, indent=2))
    return [target]


def pull_artifacts(client: Client, project: int, run: dict, out: Path, quiet: bool) -> list[Path]:
    items = client.artifacts(project, run["id"])
    base = f"/projects/{project}/runs/{run['id']}/artifacts/"
    folder = out / "artifacts"
    targets = [inside(folder, item["path"]) for item in items]
    with bar("artifacts", len(items), sum(i["size"] for i in items), quiet) as progress:

        def fetch(pair: tuple[dict, Path]) -> None:
            item, target = pair
            download_checked(client, base + item["path"], target, item, progress.advance)
            progress.file_done()

        with ThreadPoolExecutor(DOWNLOADS_AT_ONCE) as pool:
            list(pool.map(fetch, zip(items, targets, strict=True)))
    return targets


def pull_snapshot(client: Client, project: int, run: dict, out: Path, quiet: bool) -> list[Path]:
    if not run["outputs"]["snapshot"]:
        return []
    files = client.snapshot(project, run["id"])
    folder = out / "snapshot"
    url = f"/projects/{project}/runs/{run['id']}/snapshot.zip"
    with tempfile.TemporaryFile() as zipped:
        with bar("snapshot", len(files), sum(f["size"] for f in files), quiet) as progress:
            client.download(url, zipped, progress.advance)
        archive = zipfile.ZipFile(zipped)
        targets = []
        for listed in files:
            target = inside(folder, listed["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(listed["path"]))
            check(target, listed, str(target))
            targets.append(target)
    return targets


def pull_version(client: Client, project: int, run: dict, out: Path, quiet: bool) -> list[Path]:
    label = run["outputs"]["version"]
    if not label:
        return []
    package = run["outputs"]["package"]
    version = client.version(project, package, label)
    name = client.get(f"/projects/{project}/packages/{package}")["name"]
    target = out / f"{name}-{label}.zip"
    url = f"/projects/{project}/packages/{package}/versions/{label}/download"
    with bar(f"version {label}", 1, version["size"], quiet) as progress:
        download_checked(client, url, target, version, progress.advance)
        progress.file_done()
    return [target]


PULLS = {
    "results": pull_results,
    "artifacts": pull_artifacts,
    "snapshot": pull_snapshot,
    "version": pull_version,
}


def pull(
    client: Client, project: int, run: dict, out: Path, parts: list[str], quiet: bool
) -> dict[str, list[Path]]:
    out.mkdir(parents=True, exist_ok=True)
    return {part: PULLS[part](client, project, run, out, quiet) for part in parts}
