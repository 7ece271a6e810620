"""The Pipeline Details page: a run's header, outputs, previews and downloads."""

import io
import json
import re
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aicenter.store import get_store
from datasets.models import Dataset
from datasets.previews import TEXT_HEAD_BYTES
from pipelines.models import Run, Status
from pipelines.outputs import ARTIFACTS_SHOWN, results_key
from tests.datasets.test_previews import PNG, bytes_read  # noqa: F401 - a fixture
from tests.factories import fetched, logged_in_client
from tests.pipelines.builders import (
    publish,
    run_of,
    snapshotting_pipeline,
    store_artifacts,
    write_log,
)

ARTIFACTS = {
    "metrics.json": b'{"accuracy": 0.91, "loss": 0.2}',
    "predictions.csv": b"id,label\n1,rose\n2,tulip\n",
    "plots/loss.png": PNG,
    "model/weights.bin": bytes(range(256)),
    "notes.txt": b"trained on 2 files",
}
TRACEBACK = "ValueError: no labels\nTraceback (most recent call last):\n  File train.py, line 9"


@pytest.fixture
def editor_client(editor):
    return logged_in_client(editor)


@pytest.fixture
def pipeline(project, owner):
    files = {"train/a.csv": b"x,y\n1,2\n", "train/b.csv": b"x,y\n3,4\n", "test/c.csv": b"x\n"}
    return snapshotting_pipeline(project, owner, files, epochs="3")


@pytest.fixture
def successful(pipeline):
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(run, ARTIFACTS)
    write_log(run, [("stdout", "epoch 1 done"), ("stderr", "warning: tiny data")])
    return publish(run, score=0.91)


@pytest.fixture
def failed(pipeline):
    run = run_of(pipeline, Status.FAILED, error=TRACEBACK)
    store_artifacts(run, {"partial.txt": b"half"})
    return run


@pytest.fixture
def running(pipeline):
    return run_of(pipeline, Status.RUNNING)


def url(name: str, run: Run, *args) -> str:
    return reverse(f"pipelines:{name}", args=[run.project_id, run.id, *args])


def fetched_zip(response) -> zipfile.ZipFile:
    content = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(content)
    return zipfile.ZipFile(io.BytesIO(content))


def zip_names(response) -> list[str]:
    return sorted(fetched_zip(response).namelist())


def test_a_successful_run_shows_its_version_artifacts_snapshot_and_results(
    viewer_client, successful
):
    page = viewer_client.get(url("run", successful)).text
    version = successful.produced_version
    assert 'data-status="successful"' in page
    assert f'href="{version.get_absolute_url()}"' in page
    download = reverse("packages:download", args=[successful.project_id, version.package_id, "1.1"])
    assert download in page
    for name in ["metrics.json", "predictions.csv", "loss.png", "weights.bin", "plots/"]:
        assert name in page
    assert url("run-artifact", successful, "plots/loss.png") in page
    assert ">a.csv</code>" in page and ">b.csv</code>" in page
    assert "&quot;run_summary&quot;: {" in page  # _results.json, indented
    assert "0.9100" in page
    assert 'role="alert"' not in page


def test_a_viewer_gets_no_actions_but_the_download_and_an_editor_may_run_again(
    viewer_client, editor_client, successful
):
    seen_by_viewer = viewer_client.get(url("run", successful)).text
    seen_by_editor = editor_client.get(url("run", successful)).text
    again = reverse("pipelines:run-again", args=[successful.project_id, successful.id])
    assert url("run-zip", successful) in seen_by_viewer
    assert again not in seen_by_viewer and "Make a dataset" not in seen_by_viewer
    assert again in seen_by_editor and "Make a dataset" in seen_by_editor
    assert reverse("pipelines:kill", args=[successful.project_id, successful.id]) not in (
        seen_by_editor
    )


def test_a_failed_run_shows_its_error_and_says_which_outputs_it_did_not_make(viewer_client, failed):
    page = viewer_client.get(url("run", failed)).text
    assert '<pre class="error-box" role="alert"><strong>ValueError: no labels</strong>' in page
    assert "  File train.py, line 9" in page
    assert "No new version: the run ended as failed" in page
    assert "partial.txt" in page
    assert "save_training_data" in page and "A snapshot of the input data" not in page
    assert "Only a successful run writes <code>_results.json</code>" in page


def test_a_killed_run_says_so_in_every_section(viewer_client, pipeline):
    killed = run_of(pipeline, Status.KILLED, error="Killed on request.")
    page = viewer_client.get(url("run", killed)).text
    assert 'data-status="killed"' in page
    assert "Killed on request." in page
    assert "the run ended as killed" in page
    assert "The run wrote nothing to its artifacts folder" in page
    assert "this one ended as killed" in page
    assert 'hx-trigger="every 2s"' not in page


def test_a_running_run_polls_its_header_and_offers_to_kill_it(editor_client, running):
    page = editor_client.get(url("run", running)).text
    assert f'hx-get="{url("run-header", running)}?reload=1"' in page
    assert reverse("pipelines:kill", args=[running.project_id, running.id]) in page
    assert re.search(r"running for 1 min 1[5-9] s", page)
    assert "uploaded when it ends" in page
    assert "Written when the run succeeds." in page


def test_a_run_that_just_started_counts_its_seconds(viewer_client, pipeline):
    started = run_of(pipeline, Status.RUNNING, started_at=timezone.now() - timedelta(seconds=4))
    page = viewer_client.get(url("run-header", started)).text
    assert re.search(r"running for [4-9] s", page)


def test_the_header_poll_renders_the_header_alone_until_the_run_ends(viewer_client, running):
    fragment = viewer_client.get(url("run-header", running) + "?reload=1")
    assert fragment.text.lstrip().startswith('<section class="card run-header"')
    assert "?reload=1" in fragment.text
    Run.objects.filter(id=running.id).update(status=Status.SUCCESSFUL)
    assert viewer_client.get(url("run-header", running) + "?reload=1")["HX-Refresh"] == "true"
    ended = viewer_client.get(url("run-header", running))
    assert 'data-status="successful"' in ended.text and "hx-trigger" not in ended.text


def test_a_scheduled_run_says_it_waits(viewer_client, pipeline):
    page = viewer_client.get(url("run", pipeline.runs.get())).text
    assert 'data-status="scheduled"' in page
    assert "Started</dt><dd>—" in page


def test_the_artifact_tree_lists_folders_before_files(viewer_client, successful):
    tree = viewer_client.get(url("run", successful)).context["tree"]
    assert [node.name for node in tree] == [
        "model",
        "plots",
        "metrics.json",
        "notes.txt",
        "predictions.csv",
    ]
    assert [node.path for node in tree[1].entries] == ["plots/loss.png"]


def test_a_long_artifact_list_is_cut_and_points_to_the_zip(viewer_client, pipeline):
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(run, {f"f{n:04}.txt": b"" for n in range(ARTIFACTS_SHOWN + 3)})
    response = viewer_client.get(url("run", run))
    assert len(response.context["tree"]) == ARTIFACTS_SHOWN
    assert f"artifacts.zip holds all {ARTIFACTS_SHOWN + 3}" in response.text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("predictions.csv", "<th>id</th><th>label</th>"),
        ("metrics.json", "{\n  &quot;accuracy&quot;: 0.91,\n  &quot;loss&quot;: 0.2\n}"),
        ("notes.txt", "trained on 2 files"),
        ("model/weights.bin", "No preview for <code>application/octet-stream</code> files."),
    ],
)
def test_an_artifact_previews_by_its_kind(viewer_client, successful, path, expected):
    response = viewer_client.get(url("run-artifact", successful, path))
    assert expected in response.text
    assert url("run-artifact-download", successful, path) in response.text


def test_an_image_artifact_is_shown_inline_from_its_own_url(viewer_client, successful):
    page = viewer_client.get(url("run-artifact", successful, "plots/loss.png")).text
    image_url = url("run-artifact-image", successful, "plots/loss.png")
    assert f'<img class="preview-image" src="{image_url}"' in page
    image = viewer_client.get(image_url)
    assert image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == PNG
    assert viewer_client.get(url("run-artifact-image", successful, "notes.txt")).status_code == 404


def test_the_preview_pane_gets_the_fragment_alone(viewer_client, successful):
    response = viewer_client.get(
        url("run-artifact", successful, "notes.txt"), headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<div class="artifact"')
    assert "<html" not in response.text


def test_a_large_text_artifact_previews_only_its_capped_head(
    viewer_client,
    pipeline,
    bytes_read,  # noqa: F811
):
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(run, {"train.log": b"line\n" * 1_000_000})
    bytes_read.clear()
    response = viewer_client.get(url("run-artifact", run, "train.log"))
    assert response.context["preview"].truncated
    assert bytes_read == [TEXT_HEAD_BYTES]


def test_an_artifact_downloads_from_the_store(viewer_client, successful):
    response = viewer_client.get(url("run-artifact-download", successful, "model/weights.bin"))
    assert response.status_code == 302
    assert fetched(viewer_client, response) == ARTIFACTS["model/weights.bin"]


def test_artifacts_zip_holds_exactly_the_listed_artifacts(viewer_client, successful):
    response = viewer_client.get(url("run-artifacts-zip", successful))
    assert zip_names(response) == sorted(successful.artifacts.values_list("path", flat=True))
    assert f"run-{successful.id}-artifacts.zip" in response["Content-Disposition"]


def test_snapshot_zip_holds_exactly_the_snapshot_files(viewer_client, successful):
    response = viewer_client.get(url("run-snapshot-zip", successful))
    assert zip_names(response) == ["a.csv", "b.csv"]


def test_a_run_without_a_snapshot_has_no_snapshot_zip(viewer_client, failed):
    assert viewer_client.get(url("run-snapshot-zip", failed)).status_code == 404


def test_results_json_downloads_as_it_was_stored(viewer_client, successful):
    response = viewer_client.get(url("run-results", successful))
    stored = get_store().get_bytes(results_key(successful))
    assert json.loads(response.content) == json.loads(stored) == successful.results
    assert "attachment" in response["Content-Disposition"]
    assert viewer_client.get(url("run-results", run_of(successful.pipeline))).status_code == 404


def test_everything_zip_holds_results_version_artifacts_snapshot_and_log(viewer_client, successful):
    archive = fetched_zip(viewer_client.get(url("run-zip", successful)))
    expected = [
        "_results.json",
        *(f"artifacts/{path}" for path in ARTIFACTS),
        "package/flowers-stdlib-1.1.zip",
        "run.log",
        "snapshot/a.csv",
        "snapshot/b.csv",
    ]
    assert sorted(archive.namelist()) == sorted(expected)
    log = archive.read("run.log").decode().splitlines()
    assert [line.split(" ", 2)[1:] for line in log] == [
        ["stdout", "epoch 1 done"],
        ["stderr", "warning: tiny data"],
    ]


def test_an_editor_makes_a_dataset_from_the_snapshot(editor_client, successful):
    response = editor_client.post(url("run-snapshot-dataset", successful), {"name": "frozen"})
    dataset = Dataset.objects.get(name="frozen")
    assert response.url == dataset.get_absolute_url()
    assert sorted(dataset.files.values_list("path", flat=True)) == ["a.csv", "b.csv"]


def test_a_taken_dataset_name_is_refused_on_the_form(editor_client, successful):
    response = editor_client.post(url("run-snapshot-dataset", successful), {"name": "flowers"})
    assert response.status_code == 400
    assert "already has a dataset named flowers" in response.text
    assert Dataset.objects.count() == 1


def test_a_viewer_may_not_make_a_dataset_from_the_snapshot(viewer_client, successful):
    response = viewer_client.post(url("run-snapshot-dataset", successful), {"name": "frozen"})
    assert response.status_code == 403
    assert not Dataset.objects.filter(name="frozen").exists()


def many_lines(run: Run, count: int, width: int = 100) -> None:
    write_log(run, [("stdout", f"{n + 1:08} " + "x" * width) for n in range(count)])


def test_the_logs_tab_marks_stderr_and_offers_the_full_log(viewer_client, successful):
    page = viewer_client.get(url("run-logs", successful)).text
    assert '<div class="log-line log-stderr" data-n="2">' in page
    assert '<span class="log-mark">stderr</span>' in page
    assert url("run-log", successful) in page
    download = viewer_client.get(url("run-log", successful))
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert [line.split(" ", 2)[1:] for line in lines] == [
        ["stdout", "epoch 1 done"],
        ["stderr", "warning: tiny data"],
    ]


def test_a_10_mb_log_shows_its_tail_and_loads_earlier_lines_on_demand(viewer_client, running):
    many_lines(running, 100_000)  # about 10 MB of text
    response = viewer_client.get(url("run-logs", running))
    assert len(response.content) < 200_000
    assert response.text.count('class="log-line') == 500
    assert 'data-n="100000"' in response.text and 'data-n="99500"' not in response.text
    earlier = url("run-log-lines", running) + "?before=99501"
    assert f'hx-get="{earlier}"' in response.text
    assert "Load earlier lines (99500 more)" in response.text

    older = viewer_client.get(earlier).text
    assert older.count('class="log-line') == 500
    assert 'data-n="99001"' in older and 'data-n="99501"' not in older
    assert "?before=99001" in older and "?after=" not in older


def test_the_first_lines_offer_nothing_earlier(viewer_client, successful):
    older = viewer_client.get(url("run-log-lines", successful) + "?before=2").text
    assert 'data-n="1"' in older and "Load earlier" not in older


def test_the_live_tail_answers_new_lines_and_asks_again_while_the_run_goes(viewer_client, running):
    page = viewer_client.get(url("run-logs", running)).text
    assert f'hx-get="{url("run-log-lines", running)}?after=0"' in page
    assert "No output yet" in page
    write_log(running, [("stdout", "epoch 1"), ("stderr", "oops")])
    tail = viewer_client.get(url("run-log-lines", running) + "?after=1").text
    assert 'data-n="1"' not in tail and 'data-n="2"' in tail
    assert f'hx-get="{url("run-log-lines", running)}?after=2"' in tail
    assert 'hx-trigger="load delay:1s"' in tail


def test_the_live_tail_stops_once_the_run_has_ended(viewer_client, successful):
    tail = viewer_client.get(url("run-log-lines", successful) + "?after=0").text
    assert tail.count('class="log-line') == 2
    assert "hx-get" not in tail
    assert "hx-get" not in viewer_client.get(url("run-logs", successful)).text.split('id="log"')[1]


def test_the_live_tail_stops_with_the_closing_line_as_soon_as_the_run_ends(viewer_client, running):
    Run.objects.get(id=running.id).fail("ValueError: no data")
    tail = viewer_client.get(url("run-log-lines", running) + "?after=0").text
    assert "ValueError: no data" in tail
    assert "hx-get" not in tail


def test_a_line_number_must_be_a_number(viewer_client, running):
    assert viewer_client.get(url("run-log-lines", running) + "?after=x").status_code == 404


RUN_PAGES = [
    ("run", []),
    ("run-header", []),
    ("run-logs", []),
    ("run-log-lines", []),
    ("run-log", []),
    ("run-artifact", ["notes.txt"]),
    ("run-artifact-image", ["plots/loss.png"]),
    ("run-artifact-download", ["notes.txt"]),
    ("run-artifacts-zip", []),
    ("run-snapshot-zip", []),
    ("run-results", []),
    ("run-zip", []),
]


@pytest.mark.parametrize(("name", "args"), RUN_PAGES)
def test_a_viewer_may_read_every_page_and_download(viewer_client, successful, name, args):
    assert viewer_client.get(url(name, successful, *args)).status_code in {200, 302}


@pytest.mark.parametrize(("name", "args"), [*RUN_PAGES, ("run-snapshot-dataset", [])])
def test_an_outsider_gets_404_from_every_page_and_download(outsider_client, successful, name, args):
    assert outsider_client.get(url(name, successful, *args)).status_code == 404
    assert outsider_client.post(url(name, successful, *args)).status_code in {404, 405}


def test_downloads_from_s3_are_presigned_redirects(viewer_client, pipeline, s3_server, settings):
    settings.STORE = s3_server.store_config("aicenter-tests", f"t-{uuid.uuid4().hex}")
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(run, {"notes.txt": b"on s3"})
    run = publish(run)
    artifact = viewer_client.get(url("run-artifact-download", run, "notes.txt"))
    assert "X-Amz-Signature=" in artifact.url
    assert fetched(viewer_client, artifact) == b"on s3"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("gate", "HTTPS to the internet, through the network gate"),
        ("host", "the host&#x27;s"),
        ("off", "asked for, not given (RUN_NETWORK=off)"),
    ],
)
def test_the_run_and_its_pipeline_say_what_network_they_get(
    viewer_client, pipeline, settings, given, shown
):
    settings.RUN_NETWORK = given
    pipeline.network = True
    pipeline.save(update_fields=["network"])
    run = run_of(pipeline, Status.RUNNING, network=True)
    assert f"<dt>Network</dt><dd>{shown}</dd>" in viewer_client.get(url("run", run)).text
    page = viewer_client.get(pipeline.get_absolute_url()).text
    assert f"<dt>Network</dt><dd>{shown[0].upper()}{shown[1:]}</dd>" in page
