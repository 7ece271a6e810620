"""The project's activity: what happened to packages, datasets, pipelines and runs."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from aicenter.models import Event, EventKind
from datasets.ingest import upload_files
from datasets.tree import delete_path
from packages.upload import delete_package, upload_package
from pipelines.definitions import delete_pipeline
from pipelines.models import Run, Status
from pipelines.start import start_run
from tests.factories import dataset_uploads, logged_in_client, make_dataset, uploaded, zip_bytes
from tests.pipelines.builders import dataset_with, example_version, training_pipeline


def kinds(project) -> list[str]:
    return list(Event.objects.filter(project=project).values_list("kind", flat=True))


def test_an_uploaded_package_is_recorded_with_what_it_can_run(project, owner):
    version = example_version(project, owner)
    event = Event.objects.get(kind=EventKind.PACKAGE_UPLOADED)
    assert event.message == "flowers-stdlib 1.0: uploaded; it can run training, evaluation, full."
    assert event.user == owner
    assert event.link == version.get_absolute_url()


def refuse_upload(project, owner) -> ValidationError:
    broken = zip_bytes({"train.py": "class Main:\n    pass\n", "../escape.txt": "x"})
    with pytest.raises(ValidationError) as refusal:
        upload_package(
            project,
            name="broken",
            description="",
            python_version="3.12",
            file=uploaded(broken),
            user=owner,
        )
    return refusal.value


def test_a_refused_package_is_recorded_with_every_reason(project, owner):
    refusal = refuse_upload(project, owner)
    event = Event.objects.get(kind=EventKind.PACKAGE_REFUSED)
    assert event.message.startswith("broken: upload refused.\n")
    for reason in refusal.messages:
        assert reason in event.message
    assert event.user == owner


def test_deleting_a_package_is_recorded(project, owner):
    version = example_version(project, owner)
    delete_package(version.package, owner)
    assert Event.objects.get(kind=EventKind.PACKAGE_DELETED).message == "flowers-stdlib: deleted."


def test_dataset_changes_are_recorded(project):
    dataset = make_dataset(project, "reviews")
    upload_files(dataset, "train", dataset_uploads({"a.csv": "1", "b.csv": "2"}))
    upload_files(dataset, "train", dataset_uploads({"a.csv": "3"}))
    delete_path(dataset, "train")
    upload_files(dataset, "test", dataset_uploads({"c.csv": "4"}))
    delete_path(dataset, "test")
    messages = list(
        Event.objects.filter(kind=EventKind.DATASET_CHANGED)
        .order_by("id")
        .values_list("message", flat=True)
    )
    assert messages[-5:] == [
        "reviews/train: 2 files added, 0 replaced.",
        "reviews/train: 0 files added, 1 replaced.",
        "reviews/train: removed with 2 files.",
        "reviews/test: 1 file added, 0 replaced.",
        "reviews/test: removed with 1 file.",
    ]


def test_a_pipeline_and_its_run_leave_a_trail(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "reviews", {"a.csv": b"1"})
    pipeline = training_pipeline(project, owner, version, data)
    run = pipeline.runs.get()
    run.request_kill()
    delete_pipeline(pipeline, owner)
    assert kinds(project)[:3] == [
        EventKind.PIPELINE_REMOVED,
        EventKind.RUN_KILLED,
        EventKind.PIPELINE_CREATED,
    ]
    killed = Event.objects.get(kind=EventKind.RUN_KILLED)
    assert killed.message == f"nightly: run #{run.id} killed: Killed before it started."
    assert killed.link == run.get_absolute_url()
    assert Event.objects.get(kind=EventKind.PIPELINE_CREATED).message == (
        "nightly: training of flowers-stdlib 1.0, run by hand."
    )
    run.refresh_from_db()
    assert run.status == Status.KILLED


def test_the_activity_page_lists_events_newest_first_and_filters_by_kind(
    project, owner, viewer_client
):
    version = example_version(project, owner)
    dataset = make_dataset(project, "reviews")
    upload_files(dataset, "", dataset_uploads({"a.csv": "1"}))
    url = reverse("activity", args=[project.id])
    page = viewer_client.get(url)
    shown = [event.kind for event in page.context["events"]]
    assert shown[0] == EventKind.DATASET_CHANGED
    assert EventKind.PACKAGE_UPLOADED in shown
    assert f'href="{version.get_absolute_url()}"' in page.text
    only = viewer_client.get(url, {"kind": EventKind.PACKAGE_UPLOADED})
    assert [event.kind for event in only.context["events"]] == [EventKind.PACKAGE_UPLOADED]


def test_the_activity_of_another_project_is_404(project, outsider_client):
    assert outsider_client.get(reverse("activity", args=[project.id])).status_code == 404


def who_did(page, kind: str) -> list[str]:
    return [event.who for event in page.context["events"] if event.kind == kind]


def test_the_activity_page_names_the_person_behind_each_event(project, owner, editor):
    client = logged_in_client(editor)
    version = example_version(project, owner)
    data = dataset_with(project, "reviews", {"a.csv": b"1"})
    pipeline = training_pipeline(project, owner, version, data)
    assert pipeline.runs.get().claim("worker-1")
    client.post(
        reverse("datasets:upload", args=[project.id, data.id]),
        {"files": [uploaded(b"2", "b.csv")], "path": ""},
    )
    client.post(reverse("pipelines:start", args=[project.id, pipeline.id]))
    run = pipeline.runs.latest("id")
    assert run.claim("worker-1")
    client.post(reverse("pipelines:kill", args=[project.id, run.id]))
    assert Run.objects.get(id=run.id).kill()
    scheduled = start_run(pipeline)
    assert scheduled.claim("worker-1")
    assert scheduled.fail("Out of memory.")

    page = client.get(reverse("activity", args=[project.id]))
    assert who_did(page, EventKind.DATASET_CHANGED)[0] == "eddie"
    assert who_did(page, EventKind.RUN_STARTED) == ["schedule", "eddie", "olivia"]
    assert who_did(page, EventKind.RUN_KILLED) == ["eddie"]
    assert who_did(page, EventKind.RUN_FAILED) == ["worker"]
    assert "<td>eddie</td>" in page.text


ENGLISH = {"accept-language": "en"}
JAPANESE = {"accept-language": "ja"}


def test_a_line_the_service_said_reads_in_the_readers_language(project, owner, viewer_client):
    refuse_upload(project, owner)
    event = Event.objects.get(kind=EventKind.PACKAGE_REFUSED)
    assert event.said is not None
    url = reverse("activity", args=[project.id])
    english = viewer_client.get(url, headers=ENGLISH).text
    japanese = viewer_client.get(url, headers=JAPANESE).text
    assert "broken: upload refused.<br>" in english
    assert "../escape.txt: the path leaves the archive&#x27;s folder (..)." in english
    assert "broken: アップロードを拒否しました。<br>" in japanese
    assert "../escape.txt: パスがアーカイブのフォルダーの外を指しています (..)。" in japanese
    assert "upload refused" not in japanese


def test_every_reason_of_a_refusal_is_kept_to_be_worded_again(project, owner):
    refuse_upload(project, owner)
    event = Event.objects.get(kind=EventKind.PACKAGE_REFUSED)
    with translation.override("ja"):
        lines = event.text.splitlines()
    assert lines[0] == "broken: アップロードを拒否しました。"
    assert len(lines) == len(event.message.splitlines()) > 2
    assert not any("upload refused" in line for line in lines)


def test_a_run_ending_reads_in_the_readers_language_with_its_names_as_written(
    project, owner, viewer_client
):
    version = example_version(project, owner)
    data = dataset_with(project, "reviews", {"a.csv": b"1"})
    pipeline = training_pipeline(project, owner, version, data)
    run = pipeline.runs.get()
    run.request_kill()
    url = reverse("activity", args=[project.id], query={"kind": EventKind.RUN_KILLED})
    japanese = viewer_client.get(url, headers=JAPANESE).text
    assert f"nightly: 実行 #{run.id} を強制終了しました: 開始前に強制終了しました。" in japanese


def test_an_event_kept_before_events_were_said_is_shown_as_it_was_stored(project, viewer_client):
    Event.objects.create(project=project, kind=EventKind.RUN_FAILED, message="nightly: run #7")
    url = reverse("activity", args=[project.id])
    assert "nightly: run #7" in viewer_client.get(url, headers=JAPANESE).text
