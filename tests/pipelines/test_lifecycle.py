"""A run's transitions, without worker processes: each moves only from the statuses it
allows, and only the move that won writes the closing line and the event."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from aicenter.models import Event
from aicenter.store import ObjectMissing, ObjectStore, get_store
from datasets.models import Snapshot
from packages.models import PackageVersion
from pipelines.models import ACTIVE, MAX_LINE_CHARS, Run, Status
from pipelines.runner.execute import Outcome
from pipelines.runner.logs import RunLog
from pipelines.runner.publish import prepare, publish, upload_artifacts
from pipelines.runner.run import finish
from pipelines.runner.stage import Staged, stage
from pipelines.runner.workspace import Workspace
from tests.factories import api_client
from tests.pipelines.builders import run_of, snapshotting_pipeline

FILES = {"train/a.csv": b"species\nsetosa\n", "test/b.csv": b"species\nversicolor\n"}


@pytest.fixture
def pipeline(project, owner):
    return snapshotting_pipeline(project, owner, FILES)


@pytest.fixture
def scheduled(pipeline):
    return pipeline.runs.get()


@pytest.fixture
def running(pipeline):
    Run.objects.filter(pipeline=pipeline).delete()
    return run_of(pipeline, Status.RUNNING, worker="here:1", heartbeat_at=timezone.now())


@pytest.fixture
def staged_run(running, settings, tmp_path):
    """A running run whose workspace holds its package and data, as after staging."""
    settings.WORKER_DIR = str(tmp_path / "worker")
    workspace = Workspace.create(running.id)
    staged = stage(running, workspace, RunLog(running))
    yield running, workspace, staged
    workspace.remove()


def events_of(run: Run) -> list[str]:
    return list(Event.objects.filter(link=run.get_absolute_url()).values_list("kind", flat=True))


def last_line(run: Run) -> str | None:
    return run.log_lines.order_by("-n").values_list("text", flat=True).first()


def package_zips(run: Run) -> list[str]:
    return sorted(item.key for item in get_store().list(f"projects/{run.project_id}/packages/"))


def succeeded(run: Run) -> bool:
    return run.succeed("Run successful.", score=0.5)


def test_a_second_delivery_claims_nothing(scheduled):
    assert scheduled.claim("here:1")
    assert not Run.objects.get(id=scheduled.id).claim("there:2")
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.worker) == (Status.RUNNING, "here:1")
    assert events_of(scheduled) == ["run_started"]


def test_a_run_killed_before_it_was_claimed_is_never_claimed(scheduled):
    scheduled.request_kill()
    assert not Run.objects.get(id=scheduled.id).claim("here:1")
    assert Run.objects.get(id=scheduled.id).status == Status.KILLED


@pytest.mark.parametrize(
    ("end", "status", "closing"),
    [
        (lambda run: run.fail("ValueError: bad\nTraceback"), Status.FAILED, "ValueError: bad"),
        (lambda run: run.kill(), Status.KILLED, "Killed on request."),
        (succeeded, Status.SUCCESSFUL, "Run successful."),
        (
            lambda run: run.lose("Worker lost.", silent_since=timezone.now()),
            Status.FAILED,
            "Worker lost.",
        ),
    ],
)
def test_every_ending_sets_its_time_and_writes_one_closing_line_and_one_event(
    running, end, status, closing
):
    lines_before = running.log_lines.count()
    assert end(running)
    assert not end(Run.objects.get(id=running.id))  # a second ending finds nothing to end
    running.refresh_from_db()
    assert running.status == status
    assert running.ended_at is not None
    assert running.log_lines.count() == lines_before + 1
    assert last_line(running) == closing
    assert running.log_bytes == len(closing) + 1
    assert events_of(running) == [f"run_{status}"]


def test_killing_a_scheduled_run_ends_it_at_once_with_its_line(scheduled):
    scheduled.request_kill()
    scheduled.refresh_from_db()
    assert scheduled.status == Status.KILLED
    assert scheduled.ended_at is not None
    assert last_line(scheduled) == "Killed before it started."
    assert events_of(scheduled) == ["run_killed"]


def test_killing_a_started_run_asks_its_runner_and_changes_nothing_else(running):
    running.request_kill()
    running.refresh_from_db()
    assert (running.status, running.kill_requested, running.ended_at) == (
        Status.RUNNING,
        True,
        None,
    )
    assert events_of(running) == []


def test_a_kill_asked_for_before_success_wins(running):
    Run.objects.get(id=running.id).request_kill()
    assert not succeeded(running)
    assert running.kill()
    running.refresh_from_db()
    assert running.status == Status.KILLED
    assert last_line(running) == "Killed on request."


def test_a_beating_run_is_not_lost(running):
    assert not running.lose("Worker lost.", silent_since=timezone.now() - timedelta(minutes=1))
    assert Run.objects.get(id=running.id).status == Status.RUNNING


def test_packaging_goes_back_to_running_and_never_revives_an_ended_run(running):
    assert running.mark_packaging()
    assert Run.objects.get(id=running.id).status == Status.PACKAGING
    assert running.resume()
    assert running.fail("Broken.")
    assert not running.mark_packaging()
    assert not running.resume()
    assert Run.objects.get(id=running.id).status == Status.FAILED


def test_a_reaped_run_is_not_made_successful_by_a_late_publication(staged_run):
    run, workspace, staged = staged_run
    publication = prepare(run, workspace, 0.9, staged, RunLog(run))
    versions = PackageVersion.objects.count()
    assert Run.objects.get(id=run.id).lose("Worker lost.", silent_since=timezone.now())
    assert not publish(run, publication)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert (run.produced_version, run.score, run.results) == (None, None, None)
    assert PackageVersion.objects.count() == versions
    assert not get_store().exists(publication.trained.key)  # its zip went with it
    assert events_of(run) == ["run_failed"]


def test_a_kill_during_publishing_ends_killed_with_no_version(staged_run):
    run, workspace, staged = staged_run
    versions, zips = PackageVersion.objects.count(), package_zips(run)
    Run.objects.get(id=run.id).request_kill()  # after the code ended, before success
    finish(run, workspace, Outcome(returncode=0, result={"score": 0.9}), staged, RunLog(run))
    run.refresh_from_db()
    assert run.status == Status.KILLED
    assert run.produced_version is None
    assert PackageVersion.objects.count() == versions
    assert package_zips(run) == zips
    assert last_line(run) == "Killed on request."
    assert events_of(run) == ["run_killed"]


def with_evaluation_data(run: Run) -> Run:
    Run.objects.filter(id=run.id).update(
        evaluation_dataset=run.input_dataset, evaluation_path="test"
    )
    return Run.objects.get(id=run.id)


def test_a_publication_makes_the_version_keeps_its_snapshot_and_drops_the_other(
    running, settings, tmp_path
):
    run = with_evaluation_data(running)
    settings.WORKER_DIR = str(tmp_path / "worker")
    workspace = Workspace.create(run.id)
    staged = stage(run, workspace, RunLog(run))
    finish(run, workspace, Outcome(returncode=0, result={"score": 0.9}), staged, RunLog(run))
    staged.discard_unused()
    run.refresh_from_db()
    assert run.status == Status.SUCCESSFUL
    assert run.produced_version.label == "1.1"
    assert run.snapshot == staged.input
    assert last_line(run) == "Run successful."
    assert get_store().exists(f"runs/{run.id}/_results.json")
    assert Snapshot.objects.filter(id=staged.input.id).exists()
    assert not Snapshot.objects.filter(id=staged.evaluation.id).exists()


def test_staging_that_fails_half_way_leaves_no_snapshot(running, settings, tmp_path):
    run = with_evaluation_data(running)
    evaluated = run.input_dataset.files.get(path="test/b.csv").sha256
    get_store().delete(evaluated.key)  # the evaluation data cannot be fetched
    settings.WORKER_DIR = str(tmp_path / "worker")
    snapshots = Snapshot.objects.count()
    with pytest.raises(ObjectMissing):
        stage(run, Workspace.create(run.id), RunLog(run))
    assert Snapshot.objects.count() == snapshots


def test_staging_with_evaluation_data_discards_both_snapshots_when_none_is_kept(
    running, settings, tmp_path
):
    run = with_evaluation_data(running)
    settings.WORKER_DIR = str(tmp_path / "worker")
    staged = stage(run, Workspace.create(run.id), RunLog(run))
    assert staged.input.folder == "train"
    assert staged.evaluation.folder == "test"
    assert staged.kept_by(run) == staged.input
    staged.discard_unused()
    assert not Snapshot.objects.filter(id__in=[staged.input.id, staged.evaluation.id]).exists()


def test_nothing_is_kept_unless_the_run_saves_its_training_data(running):
    running.parameters["save_training_data"] = "false"
    snapshot = Snapshot(id=1)
    assert Staged(input=snapshot).kept_by(running) is None


@pytest.mark.parametrize("end", [lambda run: run.fail("Broken."), lambda run: run.kill()])
def test_logs_read_as_finished_only_with_their_closing_line(viewer, running, end):
    api = api_client(viewer)
    url = f"/api/v1/projects/{running.project_id}/runs/{running.id}/logs"
    assert api.get(url).json()["finished"] is False
    end(running)
    answer = api.get(url).json()
    assert answer["finished"] is True
    assert answer["lines"][-1]["text"] == last_line(running)
    assert Run.objects.get(id=running.id).status not in ACTIVE


@pytest.fixture
def store_outside_transactions(monkeypatch):
    """The store in use, made to refuse every call made inside a database transaction."""
    store_class = type(get_store())
    for name in ObjectStore.__abstractmethods__:
        monkeypatch.setattr(store_class, name, refused_in_transactions(getattr(store_class, name)))


def refused_in_transactions(method):
    def guarded(*args, **kwargs):
        assert not connection.in_atomic_block, f"store.{method.__name__} in a transaction"
        return method(*args, **kwargs)

    return guarded


@pytest.mark.django_db(transaction=True)
def test_publishing_calls_the_store_outside_every_transaction(
    project, owner, settings, tmp_path, store_outside_transactions
):
    pipeline = snapshotting_pipeline(project, owner, FILES)
    run = run_of(pipeline, Status.RUNNING, heartbeat_at=timezone.now())
    settings.WORKER_DIR = str(tmp_path / "worker")
    workspace = Workspace.create(run.id)
    staged = stage(run, workspace, RunLog(run))
    artifacts = workspace.inside("artifacts")
    artifacts.mkdir()
    (artifacts / "model.txt").write_text("weights")
    upload_artifacts(run, artifacts, RunLog(run))
    finish(run, workspace, Outcome(returncode=0, result={"score": 0.9}), staged, RunLog(run))
    run.refresh_from_db()
    assert run.status == Status.SUCCESSFUL
    assert get_store().get_bytes(run.produced_version.zip_key)
    assert get_store().get_bytes(f"runs/{run.id}/artifacts/model.txt") == b"weights"
    assert run.artifacts.get().sha256 == hashlib.sha256(b"weights").hexdigest()


def test_a_run_reaped_while_its_worker_still_logs_keeps_every_line_in_order(running):
    log = RunLog(running)
    log.system("epoch 1")
    assert Run.objects.get(id=running.id).lose("Worker lost.", silent_since=timezone.now())
    log.system("epoch 2")
    log.flush()
    texts = list(running.log_lines.order_by("n").values_list("n", "text"))
    assert texts == [(1, "Worker lost."), (2, "epoch 1"), (3, "epoch 2")]
    assert Run.objects.get(id=running.id).log_bytes == sum(len(t) + 1 for _, t in texts)


def test_a_transition_that_cannot_record_its_event_changes_nothing(running, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the activity could not be written")

    monkeypatch.setattr("pipelines.models.record_event", broken)
    with pytest.raises(RuntimeError):
        running.fail("ValueError: bad")
    running.refresh_from_db()
    assert (running.status, running.ended_at, running.log_bytes) == (Status.RUNNING, None, 0)
    assert not running.log_lines.exists()


@pytest.mark.parametrize(
    ("error", "closing"),
    [("", "The run failed."), ("\nTraceback (most recent call last):", "The run failed.")],
)
def test_a_failure_without_a_first_line_still_closes_the_log(running, error, closing):
    assert running.fail(error)
    assert last_line(running) == closing


def test_a_closing_line_is_cut_like_any_other_line(running):
    assert running.fail("ValueError: " + "x" * 50_000)
    assert len(last_line(running)) == MAX_LINE_CHARS


def test_a_results_file_the_store_refuses_loses_nothing(staged_run, monkeypatch, viewer):
    run, workspace, staged = staged_run
    store_class = type(get_store())
    put_bytes = store_class.put_bytes

    def refusing(store, key, data):
        if key.endswith("/_results.json"):
            raise OSError("the store is full")
        return put_bytes(store, key, data)

    monkeypatch.setattr(store_class, "put_bytes", refusing)
    finish(run, workspace, Outcome(returncode=0, result={"score": 0.9}), staged, RunLog(run))
    run.refresh_from_db()
    assert run.status == Status.SUCCESSFUL
    assert not get_store().exists(f"runs/{run.id}/_results.json")
    answer = api_client(viewer).get(f"/api/v1/projects/{run.project_id}/runs/{run.id}/results.json")
    assert answer.json()["run_summary"]["outputs"]["version"] == "1.1"


@pytest.mark.parametrize(
    ("written", "error"),
    [
        ('{"score": NaN}', "evaluate() returned nan: a score must be a finite number."),
        ('{"score": -Infinity}', "evaluate() returned -inf: a score must be a finite number."),
        ('{"score": "0.9"}', "evaluate() returned '0.9': a score must be a finite number."),
    ],
)
def test_a_result_whose_score_is_not_a_finite_number_fails_the_run_with_nothing_published(
    staged_run, written, error
):
    run, workspace, staged = staged_run
    versions, zips = PackageVersion.objects.count(), package_zips(run)
    workspace.result.write_text(written)  # the user's code may write the result file itself
    finish(
        run, workspace, Outcome(returncode=0, result=workspace.read_result()), staged, RunLog(run)
    )
    run.refresh_from_db()
    assert (run.status, run.error) == (Status.FAILED, error)
    assert (run.produced_version, run.score, run.results) == (None, None, None)
    assert PackageVersion.objects.count() == versions
    assert package_zips(run) == zips
    assert not get_store().exists(f"runs/{run.id}/_results.json")
    assert last_line(run) == error
    assert events_of(run) == ["run_failed"]
