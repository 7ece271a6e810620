"""What the service says of a run (its error, why it waits, its own log lines) is kept as
said and worded in the language of whoever reads it; what the run's code wrote, and rows
kept before sentences were said, are shown as written."""

import pytest
from django.urls import reverse

from aicenter.wording import say
from pipelines.models import LogLine, Run, Status, Worker
from pipelines.resources import GB
from pipelines.runner.logs import RunLog
from pipelines.runner.run import TIMED_OUT
from tests.factories import api_client
from tests.pipelines.builders import dataset_with, example_version, run_of, training_pipeline

ENGLISH = {"accept-language": "en"}
JAPANESE = {"accept-language": "ja"}
TIMED_OUT_EN = "Timed out: the run took longer than 60 seconds."
TIMED_OUT_JA = "タイムアウト: 実行が 60 秒を超えました。"


@pytest.fixture
def pipeline(project, owner):
    version = example_version(project, owner)
    data = dataset_with(project, "petals", {"train/a.csv": b"x\n1\n"})
    return training_pipeline(project, owner, version, data, input_path="train")


@pytest.fixture
def api(viewer):
    return api_client(viewer)


def api_url(run: Run, tail: str = "") -> str:
    return f"/api/v1/projects/{run.project_id}/runs/{run.id}{tail}"


def read_in_both(client, url: str) -> tuple[str, str]:
    return client.get(url, headers=ENGLISH).text, client.get(url, headers=JAPANESE).text


def test_a_failure_the_service_said_reads_in_the_readers_language(pipeline, viewer_client, api):
    run = run_of(pipeline, Status.RUNNING)
    assert run.fail(say(TIMED_OUT, seconds=60))
    run.refresh_from_db()
    assert run.error == TIMED_OUT_EN  # kept in English too, for whatever reads the column
    english, japanese = read_in_both(viewer_client, run.get_absolute_url())
    assert TIMED_OUT_EN in english
    assert TIMED_OUT_JA in japanese
    assert TIMED_OUT_EN not in japanese
    assert api.get(api_url(run), headers=ENGLISH).json()["error"] == TIMED_OUT_EN
    assert api.get(api_url(run), headers=JAPANESE).json()["error"] == TIMED_OUT_JA


def test_the_error_of_the_runs_own_code_is_shown_as_written(pipeline, viewer_client, api):
    run = run_of(pipeline, Status.RUNNING)
    assert run.fail("ValueError: the input has no label column")
    japanese = viewer_client.get(run.get_absolute_url(), headers=JAPANESE).text
    assert "ValueError: the input has no label column" in japanese
    answer = api.get(api_url(run), headers=JAPANESE).json()
    assert answer["error"] == "ValueError: the input has no label column"


def test_an_error_kept_before_errors_were_said_is_shown_as_it_was_stored(pipeline, api):
    run = run_of(pipeline, Status.FAILED, error="Worker lost: w1 sent no heartbeat.")
    answer = api.get(api_url(run), headers=JAPANESE).json()
    assert answer["error"] == "Worker lost: w1 sent no heartbeat."


def test_why_a_run_waits_reads_in_the_readers_language(pipeline, viewer_client, api):
    run = run_of(pipeline)
    small = Worker.objects.create(name="small", cpus=1, memory_bytes=GB)
    assert small.take(run, "small:1") == "no-room"
    run.refresh_from_db()
    english_reason = "Waiting for a worker with 4 GB memory free."
    assert run.waiting_reason == english_reason  # its beginning still finds handed-back runs
    assert list(Run.objects.handed_back()) == [run]
    english, japanese = read_in_both(viewer_client, run.get_absolute_url())
    assert english_reason in english
    assert "メモリ 4 GB の空きがあるワーカーを待っています。" in japanese
    answer = api.get(api_url(run), headers=JAPANESE).json()
    assert answer["waiting"] == "メモリ 4 GB の空きがあるワーカーを待っています。"


def test_the_services_log_lines_read_in_the_readers_language(project, pipeline, viewer_client, api):
    run = run_of(pipeline, Status.RUNNING)
    log = RunLog(run)
    log.add("stdout", "epoch 1: Loss 0.5")
    log.system(say(TIMED_OUT, seconds=60))
    log.flush()
    LogLine.objects.create(run=run, n=3, time=run.started_at, stream="system", text="Old line.")
    pages = {
        "logs": reverse("pipelines:run-logs", args=[project.id, run.id]),
        "tail": reverse("pipelines:run-log-lines", args=[project.id, run.id]) + "?after=0",
        "download": reverse("pipelines:run-log", args=[project.id, run.id]),
    }
    for page, url in pages.items():
        response = viewer_client.get(url, headers=JAPANESE)
        text = (
            b"".join(response.streaming_content).decode() if response.streaming else response.text
        )
        assert TIMED_OUT_JA in text, page
        assert "epoch 1: Loss 0.5" in text, page  # the run's own output, as written
        assert "Old line." in text, page  # kept before lines were said
    english = viewer_client.get(pages["logs"], headers=ENGLISH).text
    assert TIMED_OUT_EN in english
    lines = api.get(api_url(run, "/logs"), headers=JAPANESE).json()["lines"]
    assert [line["text"] for line in lines] == ["epoch 1: Loss 0.5", TIMED_OUT_JA, "Old line."]
    lines = api.get(api_url(run, "/logs"), headers=ENGLISH).json()["lines"]
    assert lines[1]["text"] == TIMED_OUT_EN


def test_a_runs_closing_line_is_said_too(pipeline, viewer_client):
    run = run_of(pipeline, Status.RUNNING)
    assert run.kill()
    closing = run.log_lines.get()
    assert closing.text == "Killed on request."
    assert closing.shown_text == "Killed on request."
    japanese = viewer_client.get(
        reverse("pipelines:run-logs", args=[run.project_id, run.id]), headers=JAPANESE
    ).text
    assert "要求により強制終了しました。" in japanese
