"""Parameters and tags a run's code logged through MLflow's calls: read, kept, shown, and
never handed to a later run."""

import json
import os

import pytest
from django.db import DatabaseError
from django.urls import reverse

from pipelines.models import Run, Status
from pipelines.runner.logged import MAX_BYTES, MAX_ENTRIES, LoggedFile, read_logged
from pipelines.runner.logs import RunLog
from pipelines.start import run_again
from tests.factories import api_client
from tests.pipelines.builders import (
    publish,
    run_here,
    run_of,
    snapshotting_pipeline,
)

LOGGED = {"learning_rate": "0.1", "epochs_run": "3"}
TAGGED = {"team": "vision"}


def entry(kind: str, key, value) -> str:
    return json.dumps({"kind": kind, "key": key, "value": value}) + "\n"


@pytest.fixture
def pipeline(project, owner):
    return snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"}, epochs="3")


@pytest.fixture
def logged_run(pipeline):
    run = run_of(pipeline, Status.SUCCESSFUL)
    run.record_logged(LOGGED, TAGGED)
    return publish(run, score=0.5)


def read(run: Run, path) -> tuple[dict, dict, list[str]]:
    log = RunLog(run)
    parameters, tags = read_logged(path, log)
    log.flush()
    return parameters, tags, list(run.log_lines.values_list("text", flat=True))


def test_parameters_and_tags_are_read_with_the_last_value_of_a_key_winning(pipeline, tmp_path):
    path = tmp_path / "logged.jsonl"
    lines = [
        entry("param", "lr", "0.1"),
        entry("tag", "team", "vision"),
        entry("param", "lr", "0.2"),
        entry("param", "layers", "4"),
    ]
    path.write_text("".join(lines))
    assert read(run_of(pipeline), path) == ({"lr": "0.2", "layers": "4"}, {"team": "vision"}, [])


@pytest.mark.parametrize(
    "line",
    [
        "not json\n",
        "[1, 2]\n",
        entry("metric", "lr", "0.1"),
        entry("param", "", "0.1"),
        entry("param", "lr", 0.1),
        entry("param", "a\tb", "1"),
        entry("param", "k" * 251, "1"),
        entry("tag", "note", "x" * 8001),
        entry("tag", "note", "a\x00b"),  # PostgreSQL's JSON holds no NUL
        entry("tag", "note", "a\ud800"),  # nor any database a lone surrogate
        entry("param", "\udfff", "1"),
    ],
)
def test_a_bad_line_is_skipped_and_counted(pipeline, tmp_path, line):
    path = tmp_path / "logged.jsonl"
    path.write_text(line + entry("param", "lr", "0.1"))
    parameters, tags, said = read(run_of(pipeline), path)
    assert (parameters, tags) == ({"lr": "0.1"}, {})
    assert said[0].startswith("1 logged parameters or tags were skipped")


def test_no_file_means_nothing_logged_and_nothing_said(pipeline, tmp_path):
    assert read(run_of(pipeline), tmp_path / "logged.jsonl") == ({}, {}, [])


def test_a_link_is_refused_and_never_followed(pipeline, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(entry("param", "secret", "yes"))
    os.symlink(secret, tmp_path / "logged.jsonl")
    parameters, tags, said = read(run_of(pipeline), tmp_path / "logged.jsonl")
    assert (parameters, tags) == ({}, {})
    assert said == ["The logged parameters were not read: it is a link."]


def test_past_the_caps_entries_are_dropped_and_the_file_is_read_only_so_far(pipeline, tmp_path):
    path = tmp_path / "logged.jsonl"
    path.write_text("".join(entry("param", f"p{n}", "1") for n in range(MAX_ENTRIES + 5)))
    parameters, _, said = read(run_of(pipeline), path)
    assert len(parameters) == MAX_ENTRIES
    assert said[0].startswith("5 logged parameters or tags were skipped")

    line = entry("tag", "t", "x" * 7000)
    path.write_text(line * (MAX_BYTES // len(line) + 10))
    _, tags, said = read(run_of(pipeline), path)
    assert tags == {"t": "x" * 7000}
    assert "Only the first 1 MB of logged parameters were read." in said


def test_what_is_logged_is_stored_while_the_run_goes_and_bad_lines_said_at_the_end(
    pipeline, tmp_path, django_assert_num_queries
):
    run = run_of(pipeline, Status.RUNNING)
    path, log = tmp_path / "logged.jsonl", RunLog(run)
    reader = LoggedFile(run, path, log)
    reader.tick()  # nothing logged yet
    path.write_text(entry("param", "lr", "0.1") + "oops\n")
    reader.tick()
    assert Run.objects.get(id=run.id).logged_parameters == {"lr": "0.1"}
    with django_assert_num_queries(0):
        reader.tick()  # unchanged: not read nor stored again
    with path.open("a") as file:
        file.write(entry("tag", "team", "vision"))
    reader.tick()
    assert Run.objects.get(id=run.id).tags == {"team": "vision"}
    assert not log.pending
    reader.finish()
    log.flush()
    assert [line.text for line in run.log_lines.all()][0].startswith("1 logged parameters")


@pytest.mark.django_db(transaction=True)  # the reader closes a failed connection
def test_what_could_not_be_stored_is_stored_at_the_next_tick(pipeline, tmp_path, monkeypatch):
    run = run_of(pipeline, Status.RUNNING)
    path = tmp_path / "logged.jsonl"
    reader = LoggedFile(run, path, RunLog(run))
    path.write_text(entry("param", "lr", "0.1"))
    with monkeypatch.context() as busy:  # the database refuses the write, as a locked one does
        busy.setattr(Run, "save", lambda *args, **kwargs: raise_(DatabaseError("locked")))
        reader.tick()
    assert Run.objects.get(id=run.id).logged_parameters == {}
    reader.tick()
    assert Run.objects.get(id=run.id).logged_parameters == {"lr": "0.1"}


def raise_(error: Exception):
    raise error


LOGGING_TRAIN = """\
import json, os
from pathlib import Path

class Main:
    def train(self, training_directory):
        # Where the run's MLflow endpoint writes what log_param and set_tag send.
        logged = Path(os.environ["metrics_file"]).with_name("logged.jsonl")
        with logged.open("a") as out:
            out.write(json.dumps({"kind": "param", "key": "lr", "value": "0.1"}) + "\\n")
            out.write(json.dumps({"kind": "tag", "key": "team", "value": "vision"}) + "\\n")
        raise ValueError("diverged")

    def save(self):
        pass
"""


@pytest.mark.django_db(transaction=True)
def test_a_sandboxed_run_keeps_what_it_logged_even_when_it_fails(
    project, owner, settings, tmp_path
):
    settings.WORKER_DIR = str(tmp_path / "worker")
    run = run_here(project, owner, LOGGING_TRAIN)
    assert run.status == Status.FAILED
    assert (run.logged_parameters, run.tags) == ({"lr": "0.1"}, {"team": "vision"})
    assert "lr" not in run.parameters


def test_running_again_passes_the_runs_parameters_not_what_it_logged(logged_run, owner):
    again = run_again(logged_run, owner)
    assert again.parameters == logged_run.parameters
    assert not set(LOGGED) & set(again.parameters)
    assert (again.logged_parameters, again.tags) == ({}, {})


def test_the_change_and_edit_screens_offer_only_the_runs_parameters(logged_run, owner_client):
    project_id = logged_run.project_id
    change = reverse("pipelines:run-change", args=[project_id, logged_run.id])
    rows = owner_client.get(change).context["rows"]
    assert [row.name for row in rows] == list(logged_run.parameters)
    edit = reverse("pipelines:edit", args=[project_id, logged_run.pipeline_id])
    rows = owner_client.get(edit).context["rows"]
    assert not set(LOGGED) & {row.name for row in rows}


def test_the_run_page_shows_the_logged_parameters_apart(logged_run, viewer_client):
    page = viewer_client.get(logged_run.get_absolute_url()).text
    block = page[page.index("Logged parameters") :]
    assert "<code>learning_rate</code></td><td><code>0.1</code>" in block
    assert "<code>team</code>" in block
    assert '<span class="badge">tag</span>' in block


def test_keys_named_as_a_dictionarys_methods_are_shown_as_any_other(project, owner, viewer_client):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"}, items="7")
    run = run_of(pipeline, Status.SUCCESSFUL)
    run.record_logged({"items": "0.1", "keys": "2"}, {"items": "vision"})
    run_page = viewer_client.get(run.get_absolute_url()).text
    pipeline_page = viewer_client.get(pipeline.get_absolute_url()).text
    assert "<code>items</code></td><td><code>7</code>" in run_page
    assert "<code>items</code></td><td><code>7</code>" in pipeline_page
    assert "<code>items</code></td><td><code>0.1</code>" in run_page
    assert "<code>keys</code></td><td><code>2</code>" in run_page


def test_a_run_without_logged_parameters_shows_no_block(pipeline, viewer_client):
    page = viewer_client.get(run_of(pipeline, Status.SUCCESSFUL).get_absolute_url()).text
    assert "Logged parameters" not in page


def test_the_api_and_results_give_them_beside_the_parameters(logged_run, viewer, outsider):
    url = f"/api/v1/projects/{logged_run.project_id}/runs/{logged_run.id}"
    answer = api_client(viewer).get(url).json()
    assert (answer["logged_parameters"], answer["tags"]) == (LOGGED, TAGGED)
    assert answer["parameters"] == logged_run.parameters
    summary = logged_run.results["run_summary"]
    assert (summary["logged_parameters"], summary["tags"]) == (LOGGED, TAGGED)
    assert "learning_rate" not in logged_run.results["parameters"]["env"]
    assert api_client(outsider).get(url).status_code == 404
