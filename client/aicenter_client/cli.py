"""The `aicenter` command.

Exit codes a script can rely on: 0 done (a followed run successful), 1 refused by the
service or a followed run failed, 2 a usage error, 3 a followed run was killed, 4 the
service could not be reached or refused the token.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from aicenter_client import config, pull, push
from aicenter_client.client import ApiError, Client, NotFound, Unreachable
from aicenter_client.transfer import console

OK, FAILED, USAGE, KILLED, UNREACHABLE = 0, 1, 2, 3, 4
OUTCOME = {"successful": OK, "failed": FAILED, "killed": KILLED}
FINISHED = set(OUTCOME)
POLL_SECONDS = 0.5
SKIPPED_IN_PACKAGE = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", ".DS_Store"}

out = Console(soft_wrap=True)


def fail(message: str, code: int = FAILED, problems: list[str] | None = None):
    console.print(f"[red]Error:[/red] {message}", highlight=False)
    for problem in problems or []:
        console.print(f"  - {problem}", highlight=False, markup=False)
    sys.exit(code)


def handled(command):
    """Refusals and outages become a message and an exit code, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Unreachable as error:
            fail(str(error), UNREACHABLE)
        except ApiError as error:
            if error.status == 401:
                fail("The service refused the token: run `aicenter login` again.", UNREACHABLE)
            # The sentence is the first problem: list them when there are more.
            fail(error.detail, FAILED, error.problems if len(error.errors) > 1 else [])
        except pull.Mismatch as error:
            fail(str(error))

    return wrapper


def client() -> Client:
    settings = config.load()
    if not settings.url or not settings.token:
        said = "No service: run `aicenter login URL`, or set AICENTER_URL and AICENTER_TOKEN."
        fail(said, UNREACHABLE)
    return Client(settings.url, settings.token)


project_option = click.option(
    "--project",
    "-p",
    envvar="AICENTER_PROJECT",
    required=True,
    help="The project, by id or name (AICENTER_PROJECT sets a default).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")


def project_id(api: Client, ref: str) -> int:
    return api.project(ref)["id"]


def show(rows: list[dict], columns: dict, as_json: bool, title: str) -> None:
    """A readable table of `rows`, or their JSON; `columns` maps headings to readers."""
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print(f"No {title}.")
        return
    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        cells = (read(row) for read in columns.values())
        table.add_row(*("" if cell is None else str(cell) for cell in cells))
    out.print(table)


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aicenter-client")
def cli():
    """Drive an AI Center service: packages, datasets, pipelines and runs."""


@cli.command()
@click.argument("url")
@click.option("--token", help="The API token; asked for when left out.")
@handled
def login(url: str, token: str | None):
    """Check a token against the service at URL and remember both."""
    token = token or click.prompt("API token (create one on your profile page)", hide_input=True)
    projects = Client(url, token).projects()
    path = config.save(url, token)
    click.echo(f"Logged in to {url}: {len(projects)} projects. Saved in {path}.")


@cli.command()
@json_option
@handled
def projects(as_json: bool):
    """The projects you belong to."""
    columns = {"id": lambda p: p["id"], "name": lambda p: p["name"], "role": lambda p: p["role"]}
    show(client().projects(), columns, as_json, "projects")


@cli.command()
@project_option
@json_option
@handled
def packages(project: str, as_json: bool):
    """The project's packages with their latest versions."""
    api = client()
    columns = {
        "id": lambda p: p["id"],
        "name": lambda p: p["name"],
        "latest": lambda p: (p["latest_version"] or {}).get("version"),
        "python": lambda p: p["python_version"],
    }
    show(api.packages(project_id(api, project)), columns, as_json, "packages")


@cli.command()
@project_option
@json_option
@handled
def datasets(project: str, as_json: bool):
    """The project's datasets."""
    api = client()
    columns = {
        "id": lambda d: d["id"],
        "name": lambda d: d["name"],
        "files": lambda d: d["file_count"],
        "size": lambda d: human_size(d["size"]),
    }
    show(api.datasets(project_id(api, project)), columns, as_json, "datasets")


@cli.command()
@project_option
@json_option
@handled
def pipelines(project: str, as_json: bool):
    """The project's pipelines with their latest runs."""
    api = client()
    columns = {
        "id": lambda q: q["id"],
        "name": lambda q: q["name"],
        "type": lambda q: q["type"],
        "version": lambda q: q["version"],
        "last run": lambda q: q["runs"][0]["status"] if q["runs"] else None,
    }
    show(api.pipelines(project_id(api, project)), columns, as_json, "pipelines")


RUN_COLUMNS = {
    "id": lambda r: r["id"],
    "pipeline": lambda r: r["pipeline"],
    "status": lambda r: r["status"],
    "version": lambda r: r["version"],
    "created": lambda r: r["created_at"][:19],
    "seconds": lambda r: r["execution_time"],
    "new version": lambda r: r["outputs"]["version"],
}


@cli.command()
@project_option
@click.option("--pipeline", help="Only this pipeline's runs (id or name).")
@json_option
@handled
def runs(project: str, pipeline: str | None, as_json: bool):
    """Runs, newest first: a pipeline's, or the newest of every pipeline."""
    api = client()
    pid = project_id(api, project)
    if pipeline:
        rows = api.pipeline(pid, pipeline)["runs"]
    else:
        rows = [q["runs"][0] for q in api.pipelines(pid) if q["runs"]]
        rows.sort(key=lambda r: r["created_at"], reverse=True)
    show(rows, RUN_COLUMNS, as_json, "runs")


@cli.group()
def package():
    """Upload ML packages."""


def zipped_folder(folder: Path, target: Path) -> Path:
    """The folder as a package zip, without version control, caches and environments."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            parts = set(path.relative_to(folder).parts)
            if parts & SKIPPED_IN_PACKAGE or path.suffix == ".pyc" or not path.is_file():
                continue
            archive.write(path, path.relative_to(folder).as_posix())
    return target


@package.command("push")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--name", required=True, help="The package's name; a new major version if taken.")
@click.option("--description", default="", help="For a new package.")
@click.option("--python", "python_version", default="", help="For a new package, e.g. 3.12.")
@project_option
@json_option
@handled
def package_push(source, name, description, python_version, project, as_json):
    """Upload SOURCE (a folder, zipped on the way, or a zip) as package NAME."""
    api = client()
    pid = project_id(api, project)
    with tempfile.TemporaryDirectory() as scratch:
        archive = source
        if source.is_dir():
            archive = zipped_folder(source, Path(scratch) / f"{name}.zip")
        fields = {"description": description, "python_version": python_version}
        answer = api.push_package(pid, archive, name, **fields)
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    version = answer["versions"][-1]["version"] if "versions" in answer else answer["version"]
    click.echo(f"Uploaded {name} version {version}.")


@cli.group()
def dataset():
    """Upload folders into datasets."""


@dataset.command("push")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dataset", "dataset_ref", required=True, help="Id or name; made when new.")
@click.option("--path", "target", default="", help="The dataset's folder; its root by default.")
@click.option("--delete", is_flag=True, help="Delete the dataset's files FOLDER lacks.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@project_option
@handled
def dataset_push(folder, dataset_ref, target, delete, quiet, project):
    """Upload FOLDER, sending only files the dataset does not hold with the same content.

    Run it again after an interruption: it sends only what is still missing."""
    api = client()
    pid = project_id(api, project)
    try:
        did = api.dataset(pid, dataset_ref)["id"]
    except NotFound:
        did = api.create_dataset(pid, dataset_ref)["id"]
        console.print(f"Created dataset {dataset_ref}.")
    plan = push.push_folder(api, pid, did, folder, target, quiet=quiet, mirror=delete)
    click.echo(
        f"Sent {len(plan.send)} files ({human_size(plan.bytes_to_send)}), "
        f"{plan.skipped} already there, {len(plan.delete)} deleted."
    )


def parameters(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE.", param_hint="--param")
        values[key] = value
    return values


def follow(api: Client, pid: int, run_id: int) -> dict:
    """Print the run's log lines as they come; the run once it has ended."""
    after = 0
    while True:
        page = api.logs(pid, run_id, after)
        for line in page["lines"]:
            click.echo(line["text"])
            after = line["n"]
        sys.stdout.flush()
        if page["finished"]:
            return api.run(pid, run_id)
        if not page["lines"]:
            time.sleep(POLL_SECONDS)


def outcome(run: dict) -> int:
    """Say how the run ended, on standard error; its exit code."""
    status = run["status"]
    took = f" in {run['execution_time']:.1f} s" if run["execution_time"] is not None else ""
    console.print(f"Run {run['id']} {status}{took}.", highlight=False)
    if run["error"]:
        console.print(run["error"], highlight=False, markup=False)
    if run["outputs"]["version"]:
        console.print(f"New version: {run['outputs']['version']}.", highlight=False)
    return OUTCOME.get(status, FAILED)


@cli.command("run")
@click.argument("pipeline")
@click.option("--param", "params", multiple=True, help="KEY=VALUE for this run only; repeat.")
@click.option("--follow", "following", is_flag=True, help="Print the log live; exit with the run.")
@project_option
@json_option
@handled
def run_command(pipeline, params, following, project, as_json):
    """Run PIPELINE (id or name) now; --param overrides its parameters for this run alone."""
    api = client()
    pid = project_id(api, project)
    overrides = parameters(params)
    started = api.start_run(pid, api.pipeline(pid, pipeline)["id"], overrides)
    console.print(f"Run {started['id']} started.", highlight=False)
    if not following:
        click.echo(json.dumps(started, indent=2) if as_json else started["id"])
        return
    ended = follow(api, pid, started["id"])
    if as_json:
        click.echo(json.dumps(ended, indent=2))
    sys.exit(outcome(ended))


def run_of(api: Client, pid: int, ref: str) -> dict:
    """A run by id, or the newest run of the pipeline of that name."""
    if ref.isdigit():
        return api.run(pid, int(ref))
    runs = api.pipeline(pid, ref)["runs"]
    if not runs:
        raise NotFound(404, f"The pipeline {ref!r} has no runs yet.")
    return runs[0]


@cli.command()
@click.argument("run")
@click.option("--follow", "following", is_flag=True, help="Keep printing until the run ends.")
@project_option
@handled
def logs(run, following, project):
    """Print RUN's log (a run id, or a pipeline's name for its newest run)."""
    api = client()
    pid = project_id(api, project)
    found = run_of(api, pid, run)
    if following:
        sys.exit(outcome(follow(api, pid, found["id"])))
    after = 0
    while True:
        page = api.logs(pid, found["id"], after)
        for line in page["lines"]:
            click.echo(line["text"])
            after = line["n"]
        if not page["lines"]:
            return


@cli.command()
@click.argument("run")
@project_option
@json_option
@handled
def kill(run, project, as_json):
    """Stop RUN (a run id, or a pipeline's name for its newest run)."""
    api = client()
    pid = project_id(api, project)
    answer = api.kill(pid, run_of(api, pid, run)["id"])
    said = f"Run {answer['id']}: {answer['status']}."
    click.echo(json.dumps(answer, indent=2) if as_json else said)


@cli.command("pull")
@click.argument("run")
@click.option("--artifacts", "parts", flag_value="artifacts", multiple=True)
@click.option("--snapshot", "parts", flag_value="snapshot", multiple=True)
@click.option("--version", "parts", flag_value="version", multiple=True)
@click.option("--results", "parts", flag_value="results", multiple=True)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@project_option
@handled
def pull_command(run, parts, output, quiet, project):
    """Download RUN's outputs into OUTPUT, each file checked for size and sha256.

    --artifacts, --snapshot, --version (the package version it made) and --results
    (_results.json) choose; all of them when none is given."""
    api = client()
    pid = project_id(api, project)
    found = run_of(api, pid, run)
    pulled = pull.pull(api, pid, found, output, list(parts) or list(pull.PARTS), quiet)
    for part, paths in pulled.items():
        click.echo(f"{part}: {len(paths)} files")


def main() -> None:
    # Rich draws bars only on a terminal; elsewhere it prints them once, at the end.
    os.environ.setdefault("COLUMNS", "120")
    cli(prog_name="aicenter")
