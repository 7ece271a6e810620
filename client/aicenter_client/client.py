"""`Client(url, token)`: the service's JSON API (API.md) as Python calls.

Answers are the API's JSON as dicts. A refusal raises ApiError with the service's
sentence and its list of problems; a service that cannot be reached raises Unreachable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import requests

TIMEOUT = 60  # seconds without a byte from the service before a call gives up
CHUNK = 1024 * 1024


class ApiError(Exception):
    """The service refused a call: its status, its sentence and every problem it listed."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []

    @property
    def problems(self) -> list[str]:
        """One line per problem, each naming its field when there is one."""
        lines = []
        for error in self.errors:
            field = error.get("field")
            lines.append(f"{field}: {error['message']}" if field else error["message"])
        return lines or [self.detail]


class NotFound(ApiError):
    pass


class Unreachable(Exception):
    """The service could not be reached at all."""


class Client:
    def __init__(self, url: str, token: str, timeout: float = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._local = threading.local()  # a requests.Session is not safe to share

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.token}"
            session.headers["User-Agent"] = "aicenter-client"
            self._local.session = session
        return self._local.session

    # -- the plumbing -------------------------------------------------------------------

    def request(self, method: str, path: str, **options: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.url}/api/v1{path}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **options)
        except requests.ConnectionError:
            raise Unreachable(f"The service at {self.url} cannot be reached.") from None
        except requests.Timeout:
            raise Unreachable(f"The service at {self.url} did not answer in time.") from None
        if response.status_code >= 400:
            raise refusal(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).json()

    def post(self, path: str, json: Any = None, **options: Any) -> Any:
        return self.request("POST", path, json=json, **options).json()

    def pages(self, path: str, **params: Any) -> Iterator[dict]:
        """Every item of a paginated list, following `next`."""
        page = self.get(path, **params)
        yield from page["items"]
        while page["next"]:
            page = self.request("GET", page["next"]).json()
            yield from page["items"]

    def download(self, path: str, target: BinaryIO, progress=None) -> int:
        """A file of the service written to `target`, following its redirect; bytes written."""
        written = 0
        with self.request("GET", path, stream=True) as response:
            for chunk in response.iter_content(CHUNK):
                target.write(chunk)
                written += len(chunk)
                if progress:
                    progress(len(chunk))
        return written

    # -- projects -----------------------------------------------------------------------

    def projects(self) -> list[dict]:
        return list(self.pages("/projects"))

    def project(self, ref: str | int) -> dict:
        """A project by id or by name."""
        return named(self.projects(), ref, "project")

    # -- packages -----------------------------------------------------------------------

    def packages(self, project: int) -> list[dict]:
        return list(self.pages(f"/projects/{project}/packages"))

    def package(self, project: int, ref: str | int) -> dict:
        found = named(self.packages(project), ref, "package")
        return self.get(f"/projects/{project}/packages/{found['id']}")

    def version(self, project: int, package: int, version: str) -> dict:
        return self.get(f"/projects/{project}/packages/{package}/versions/{version}")

    def push_package(self, project: int, zip_path: Path, name: str, **fields: str) -> dict:
        """Upload a package zip: a new package (version 1.0), or a new major version of
        the package of that name."""
        existing = [p for p in self.packages(project) if p["name"] == name]
        with open(zip_path, "rb") as zipped:
            files = {"file": (zip_path.name, zipped, "application/zip")}
            if existing:
                path = f"/projects/{project}/packages/{existing[0]['id']}/versions"
                return self.post(path, files=files)
            data = {"name": name, **fields}
            return self.post(f"/projects/{project}/packages", data=data, files=files)

    # -- datasets -----------------------------------------------------------------------

    def datasets(self, project: int) -> list[dict]:
        return list(self.pages(f"/projects/{project}/datasets"))

    def dataset(self, project: int, ref: str | int) -> dict:
        return named(self.datasets(project), ref, "dataset")

    def create_dataset(self, project: int, name: str, description: str = "") -> dict:
        body = {"name": name, "description": description}
        return self.post(f"/projects/{project}/datasets", json=body)

    def held(
        self, project: int, dataset: int, folder: str, files: dict[str, str], others: bool = False
    ) -> dict:
        """Which of `files` (path relative to `folder` -> sha256) the dataset holds there."""
        body = {"path": folder, "files": [{"path": p, "sha256": h} for p, h in files.items()]}
        url = f"/projects/{project}/datasets/{dataset}/held"
        return self.post(url + ("?others=true" if others else ""), json=body)

    def put_file(self, project: int, dataset: int, path: str, source: BinaryIO) -> dict:
        url = f"/projects/{project}/datasets/{dataset}/files/{quote(path)}"
        headers = {"Content-Type": "application/octet-stream"}
        return self.request("PUT", url, data=source, headers=headers).json()

    def upload_files(
        self, project: int, dataset: int, folder: str, items: list[tuple[str, BinaryIO]]
    ) -> dict:
        """Many files in one request: (path relative to `folder`, open file) pairs."""
        files = [("files", (Path(p).name, f, "application/octet-stream")) for p, f in items]
        data = {"path": folder, "paths": [path for path, _ in items]}
        return self.post(f"/projects/{project}/datasets/{dataset}/upload", data=data, files=files)

    def delete_file(self, project: int, dataset: int, path: str) -> None:
        self.request("DELETE", f"/projects/{project}/datasets/{dataset}/files/{quote(path)}")

    # -- pipelines and runs -------------------------------------------------------------

    def pipelines(self, project: int) -> list[dict]:
        return list(self.pages(f"/projects/{project}/pipelines"))

    def pipeline(self, project: int, ref: str | int) -> dict:
        """A pipeline by id or name, with all its runs."""
        found = named(self.pipelines(project), ref, "pipeline")
        return self.get(f"/projects/{project}/pipelines/{found['id']}")

    def start_run(self, project: int, pipeline: int, parameters: dict | None = None) -> dict:
        """Run a pipeline now; `parameters` override its own for this run only."""
        body = {"parameters": parameters} if parameters else None
        return self.post(f"/projects/{project}/pipelines/{pipeline}/runs", json=body)

    def run(self, project: int, run: int) -> dict:
        return self.get(f"/projects/{project}/runs/{run}")

    def kill(self, project: int, run: int) -> dict:
        return self.post(f"/projects/{project}/runs/{run}/kill")

    def logs(self, project: int, run: int, after: int = 0) -> dict:
        """Log lines after line number `after`: {lines: [{n, time, stream, text}], finished}."""
        return self.get(f"/projects/{project}/runs/{run}/logs", after=after)

    def results(self, project: int, run: int) -> dict:
        return self.get(f"/projects/{project}/runs/{run}/results.json")

    def artifacts(self, project: int, run: int) -> list[dict]:
        return list(self.pages(f"/projects/{project}/runs/{run}/artifacts"))

    def snapshot(self, project: int, run: int) -> list[dict]:
        return list(self.pages(f"/projects/{project}/runs/{run}/snapshot"))


def refusal(response: requests.Response) -> ApiError:
    try:
        body = response.json()
        detail, errors = body["detail"], body.get("errors") or []
    except (ValueError, KeyError, TypeError):
        detail, errors = f"The service answered {response.status_code} {response.reason}.", []
    kind = NotFound if response.status_code == 404 else ApiError
    return kind(response.status_code, detail, errors)


def named(items: list[dict], ref: str | int, kind: str) -> dict:
    """The item whose name is `ref`, or whose id is `ref` when no name matches."""
    text = str(ref)
    for item in items:
        if item["name"] == text:
            return item
    for item in items:
        if text.isdigit() and item["id"] == int(text):
            return item
    raise NotFound(404, f"No {kind} named {text!r}.")
