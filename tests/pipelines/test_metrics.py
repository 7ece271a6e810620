"""A run's metrics file: each kind of bad line skipped with its number, steps counted per
metric, NaN and infinity kept as gaps, and a file the run turned into a trap read safely."""

import json
import os

import pytest
from django.utils import timezone

from pipelines.charts import Reduced, reduced
from pipelines.models import Run, Status
from pipelines.runner import charts, metrics
from pipelines.runner.logs import RunLog
from pipelines.runner.metrics import BadLine, MetricsFile, Point, RunMetrics, parse
from tests.pipelines.builders import (
    run_here,
    run_of,
    snapshotting_pipeline,
)


def points_of(*lines: str) -> list[Point]:
    steps, found = {}, []
    for line in lines:
        points = parse(line.encode(), steps)
        metrics.advance(steps, points)
        found += points
    return found


def test_a_line_names_one_point_or_several_with_one_step():
    assert points_of('{"name": "loss", "value": 0.5, "step": 3}') == [Point("loss", 3, 0.5)]
    assert points_of('{"loss": 0.5, "accuracy": 1, "step": 7}') == [
        Point("loss", 7, 0.5),
        Point("accuracy", 7, 1.0),
    ]


def test_a_point_without_a_step_takes_the_next_step_of_its_own_metric():
    found = points_of(
        '{"name": "loss", "value": 1}',
        '{"name": "loss", "value": 2}',
        '{"name": "accuracy", "value": 3}',
        '{"loss": 4, "step": 10}',
        '{"loss": 5, "accuracy": 6}',
    )
    assert [(p.name, p.step) for p in found] == [
        ("loss", 0),
        ("loss", 1),
        ("accuracy", 0),
        ("loss", 10),
        ("loss", 11),
        ("accuracy", 1),
    ]


def test_nan_infinity_and_null_are_kept_as_gaps():
    found = points_of(
        '{"name": "loss", "value": NaN}',
        '{"name": "loss", "value": Infinity}',
        '{"loss": -Infinity, "accuracy": null}',
        '{"name": "loss", "value": 1e400}',
    )
    assert [p.value for p in found] == [None, None, None, None, None]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("loss=0.3", "it is not JSON"),
        ('{"name": "loss", "value": 0.3', "it is not JSON"),
        ("[" * 100_000, "it is not JSON"),
        ("[1, 2]", "it is not a JSON object"),
        ('"loss"', "it is not a JSON object"),
        ('{"value": 0.3, "step": 1}', "it has a value but no name"),
        ('{"step": 1}', "it has no name"),
        ("{}", "it has no name"),
        ('{"name": "loss"}', "it has a name but no value"),
        ('{"name": 3, "value": 0.3}', "its name is not text"),
        ('{"name": ["loss"], "value": 0.3}', "its name is not text"),
        ('{"name": " ", "value": 0.3}', "its name is not text"),
        ('{"name": "a\\nb", "value": 0.3}', "its name holds a control character"),
        ('{"name": "a\\u0000", "value": 0.3}', "its name holds a control character"),
        ('{"name": "a\\ud800", "value": 0.3}', "its name is not text"),
        ('{"\\udfff": 0.3}', "its name is not text"),
        (json.dumps({"name": "x" * 201, "value": 1}), "its name is longer than 200 characters"),
        ('{"name": "loss", "value": "0.3"}', "the value of '0.3' is not a number"),
        ('{"name": "loss", "value": true}', "the value of True is not a number"),
        ('{"loss": 0.3, "accuracy": [1]}', "the value of [1] is not a number"),
        ('{"name": "loss", "value": 1, "step": -1}', "its step is not a whole number"),
        ('{"name": "loss", "value": 1, "step": 2.5}', "its step is not a whole number"),
        ('{"name": "loss", "value": 1, "step": "3"}', "its step is not a whole number"),
        ('{"name": "loss", "value": 1, "step": true}', "its step is not a whole number"),
        ('{"name": "loss", "value": 1, "step": 9223372036854775807}', "its step is not a whole"),
    ],
)
def test_each_kind_of_bad_line_is_refused_with_its_reason(line, why):
    steps = {"loss": 4}
    with pytest.raises(BadLine) as refused:
        parse(line.encode(), steps)
    assert str(refused.value).startswith(why)
    assert steps == {"loss": 4}


def append(path, text: str) -> None:
    with open(path, "a") as file:
        file.write(text)


def test_a_line_is_read_only_once_its_newline_is_written(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append(path, '{"name": "loss", "value": 1}\n{"name": "lo')
    file = MetricsFile(path)
    assert file.read_lines(1024) == [(1, b'{"name": "loss", "value": 1}')]
    assert file.read_lines(1024) == []
    append(path, 'ss", "value": 2}\n')
    assert file.read_lines(1024) == [(2, b'{"name": "loss", "value": 2}')]


def test_a_tick_reads_a_bounded_number_of_bytes(tmp_path):
    path = tmp_path / "metrics.jsonl"
    line = '{"name": "loss", "value": 1}\n'
    append(path, line * 100)
    file = MetricsFile(path)
    first = file.read_lines(len(line) * 10 + 5)
    assert [number for number, _ in first] == list(range(1, 11))
    assert not file.at_end
    rest = file.read_lines(10_000)
    assert [number for number, _ in rest] == list(range(11, 101))
    assert file.at_end


def test_an_overlong_line_is_given_without_its_bytes_and_the_next_line_still_counts(tmp_path):
    path = tmp_path / "metrics.jsonl"
    file = MetricsFile(path)
    append(path, "x" * (metrics.MAX_LINE_BYTES + 10))
    assert file.read_lines(metrics.MAX_LINE_BYTES // 2) == []
    assert file.read_lines(metrics.MAX_LINE_BYTES) == []
    append(path, 'x"}\n{"a": 1}\n')
    assert file.read_lines(10 * metrics.MAX_LINE_BYTES) == [(1, None), (2, b'{"a": 1}')]


def test_a_last_line_without_its_newline_is_read_once_the_run_ended(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append(path, '{"a": 1}\n{"a": 2}')
    file = MetricsFile(path)
    assert file.read_lines(1024) == [(1, b'{"a": 1}')]
    assert file.last_line() == [(2, b'{"a": 2}')]
    assert file.last_line() == []


def test_a_link_is_refused_and_never_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text('{"name": "secret", "value": 1}\n')
    path = tmp_path / "metrics.jsonl"
    path.symlink_to(secret)
    file = MetricsFile(path)
    assert file.read_lines(1024) == []
    assert str(file.refused) == "it is a link"


def test_a_fifo_is_refused_without_hanging_the_reader(tmp_path):
    path = tmp_path / "metrics.jsonl"
    os.mkfifo(path)
    file = MetricsFile(path)
    assert file.read_lines(1024) == []
    assert str(file.refused) in {"it is not a regular file", "it is a socket or a device"}


def test_a_file_not_written_yet_is_looked_for_again(tmp_path):
    path = tmp_path / "metrics.jsonl"
    file = MetricsFile(path)
    assert file.read_lines(1024) == []
    assert file.refused is None
    append(path, '{"a": 1}\n')
    assert file.read_lines(1024) == [(1, b'{"a": 1}')]


@pytest.fixture
def running(project, owner):
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"})
    Run.objects.filter(pipeline=pipeline).delete()
    return run_of(pipeline, Status.RUNNING, worker="here:1", heartbeat_at=timezone.now())


def texts(run: Run) -> list[str]:
    return list(run.log_lines.order_by("n").values_list("text", flat=True))


def capture(run: Run, path, text: str) -> RunMetrics:
    append(path, text)
    log = RunLog(run)
    reader = RunMetrics(run.id, path, log)
    reader.tick()
    reader.finish()
    log.flush()
    return reader


def test_points_are_stored_and_bad_lines_logged_with_their_numbers(running, tmp_path):
    lines = [
        '{"name": "loss", "value": 0.9}',
        "not json",
        "",
        '{"loss": 0.5, "accuracy": 0.7}',
        '{"name": "loss", "value": "high"}',
        '{"name": "loss", "value": NaN}',
    ]
    capture(running, tmp_path / "m.jsonl", "\n".join(lines) + "\n")
    stored = running.metric_points.order_by("name", "step")
    assert [(p.name, p.step, p.value) for p in stored] == [
        ("accuracy", 0, 0.7),
        ("loss", 0, 0.9),
        ("loss", 1, 0.5),
        ("loss", 2, None),
    ]
    assert texts(running) == [
        "Metrics file line 2 skipped: it is not JSON.",
        "Metrics file line 5 skipped: the value of 'high' is not a number.",
    ]


def test_the_end_of_a_run_keeps_each_metric_reduced_for_its_charts(running, tmp_path):
    lines = [json.dumps({"loss": 1 / (step + 1), "accuracy": step / 10}) for step in range(5)]
    capture(running, tmp_path / "m.jsonl", "\n".join(lines) + "\n")
    kept = dict(running.metrics.values_list("name", "chart"))
    assert kept["loss"]["count"] == 5 and kept["loss"]["shown"][-1] == [4, 0.2]
    assert kept["accuracy"]["breaks"] == [0] and len(kept["accuracy"]["seconds"]) == 5


def test_points_past_the_cap_are_dropped_with_one_line(running, tmp_path, settings):
    settings.RUN_METRICS_MAX_POINTS = 100
    lines = "".join(f'{{"name": "loss", "value": {n}}}\n' for n in range(150))
    capture(running, tmp_path / "m.jsonl", lines)
    assert running.metric_points.count() == 100
    assert texts(running) == ["Metrics past 100 points were dropped: the run reports too many."]


def test_bad_lines_past_the_first_hundred_are_counted_not_shown(running, tmp_path):
    capture(running, tmp_path / "m.jsonl", "bad\n" * 250)
    shown = texts(running)
    assert len(shown) == metrics.REPORTED_BAD_LINES + 2
    assert shown[-2] == "Further bad lines of the metrics file are counted, not shown."
    assert shown[-1] == "250 lines of the metrics file were skipped in all."


def test_a_run_cannot_report_more_than_a_thousand_names(running, tmp_path):
    line = json.dumps({f"m{n}": 1 for n in range(metrics.MAX_NAMES + 1)})
    capture(running, tmp_path / "m.jsonl", line + '\n{"name": "loss", "value": 1}\n')
    assert list(running.metric_points.values_list("name", flat=True)) == ["loss"]
    assert texts(running) == [
        "Metrics file line 1 skipped: the run would have more than 1,000 metric names."
    ]


def test_a_refused_file_is_said_once_at_the_end(running, tmp_path):
    path = tmp_path / "m.jsonl"
    os.mkfifo(path)
    log = RunLog(running)
    reader = RunMetrics(running.id, path, log)
    reader.tick()
    reader.finish()
    log.flush()
    assert running.metric_points.count() == 0
    assert len(texts(running)) == 1
    assert texts(running)[0].startswith("The metrics file was not read: it is")


def test_the_runner_sums_each_metric_up_as_the_points_say(running, tmp_path):
    lines = [
        '{"name": "loss", "value": 0.9}',
        '{"loss": 0.4, "accuracy": 0.5, "step": 2}',
        '{"loss": NaN, "accuracy": null, "step": 1}',
        '{"name": "loss", "value": 0.45, "step": 2}',
    ]
    path = tmp_path / "m.jsonl"
    log = RunLog(running)
    reader = RunMetrics(running.id, path, log)
    for line in lines:  # a tick each: the summary is stored again each time
        append(path, line + "\n")
        reader.tick()
    reader.finish()
    assert running.metrics.summaries() == [
        {"name": "accuracy", "last": 0.5, "min": 0.5, "max": 0.5, "count": 2},
        {"name": "loss", "last": 0.45, "min": 0.4, "max": 0.9, "count": 4},
    ]
    from_points = running.metric_points.summaries()
    assert [{**s, "last_step": None} for s in from_points] == [
        {**s, "last_step": None} for s in running.metrics.values(*from_points[0]).order_by("name")
    ]


REPORTING_TRAIN = """\
import json, os

class Main:
    def train(self, training_directory):
        with open(os.environ["metrics_file"], "a") as metrics:
            for epoch in range(3):
                metrics.write(json.dumps({"loss": 1 / (epoch + 1), "accuracy": epoch / 2}) + "\\n")
            metrics.write("oops\\n")
            metrics.write(json.dumps({"name": "loss", "value": 0.1, "step": 9}))

    def save(self):
        pass
"""


@pytest.mark.django_db(transaction=True)
def test_a_sandboxed_run_reports_its_metrics_and_results_give_the_last_values(
    project, owner, settings, tmp_path
):
    settings.WORKER_DIR = str(tmp_path / "worker")
    run = run_here(project, owner, REPORTING_TRAIN)
    assert run.status == Status.SUCCESSFUL, run.error
    stored = run.metric_points.order_by("name", "step").values_list("name", "step", "value")
    assert list(stored) == [
        ("accuracy", 0, 0.0),
        ("accuracy", 1, 0.5),
        ("accuracy", 2, 1.0),
        ("loss", 0, 1.0),
        ("loss", 1, 0.5),
        ("loss", 2, 1 / 3),
        ("loss", 9, 0.1),
    ]
    assert "Metrics file line 4 skipped: it is not JSON." in texts(run)
    assert run.results["run_summary"]["metrics"] == {"accuracy": 1.0, "loss": 0.1}


def test_points_written_after_the_last_tick_found_the_file_at_its_end_are_read_at_the_end(
    running, tmp_path
):
    path = tmp_path / "m.jsonl"
    path.write_text("")
    log = RunLog(running)
    reader = RunMetrics(running.id, path, log)
    reader.tick()  # the run has written nothing yet: the file is at its end
    append(path, '{"name": "loss", "value": 0.5}\n{"name": "loss", "value": 0.4}\n')
    reader.finish()
    log.flush()
    assert list(running.metric_points.order_by("step").values_list("value", flat=True)) == [
        0.5,
        0.4,
    ]
    assert texts(running) == []


def test_the_runner_keeps_each_metric_reduced_while_the_run_goes(running, tmp_path):
    path = tmp_path / "m.jsonl"
    reader = RunMetrics(running.id, path, RunLog(running))
    kept_through = []
    every = charts.REFRESH_POINTS
    for chunk in range(8):  # half a refresh's lines of loss and accuracy a tick
        steps = range(chunk * every // 2, (chunk + 1) * every // 2)
        append(
            path,
            "".join(json.dumps({"loss": 1 / (s + 1), "accuracy": s % 7}) + "\n" for s in steps),
        )
        reader.tick()
        kept = dict(running.metrics.values_list("name", "chart"))
        kept_through.append(kept["loss"] and kept["loss"]["ends"][1])
    assert kept_through == [None] + [every * ((n + 1) // 2) - 1 for n in range(1, 8)]
    loss = Reduced.from_stored(running.metrics.get(name="loss").chart)
    assert loss.count == 4 * every and len(loss.shown) <= charts.GROWN_POINTS
    assert loss.shown[0] == (0, 1.0) and loss.shown[-1] == (4 * every - 1, 1 / (4 * every))
    assert len(loss.seconds) == len(loss.shown)  # for the time axis
    full = reduced(running.metric_points.series("loss"))
    assert max(loss.shown, key=lambda p: p[1]) == max(full.shown, key=lambda p: p[1])


def test_points_at_steps_a_kept_reduction_covers_are_charted_at_a_later_tick(running, tmp_path):
    path = tmp_path / "m.jsonl"
    reader = RunMetrics(running.id, path, RunLog(running))
    append(path, "".join(f'{{"loss": {s}}}\n' for s in range(charts.REFRESH_POINTS)))
    reader.tick()
    append(path, '{"loss": -1, "step": 10}\n')  # a step given again
    reader.tick()
    reader.charts.reread_after = 0  # the time the worker waits between whole reads has passed
    reader.tick()
    kept = Reduced.from_stored(running.metrics.get(name="loss").chart)
    assert kept.count == charts.REFRESH_POINTS + 1 and (10, -1.0) in kept.shown


def test_the_end_of_a_run_extends_the_reduction_kept_while_it_went(running, tmp_path):
    path = tmp_path / "m.jsonl"
    reader = RunMetrics(running.id, path, RunLog(running))
    append(path, "".join(f'{{"loss": {s % 13}}}\n' for s in range(charts.REFRESH_POINTS)))
    reader.tick()
    live = Reduced.from_stored(running.metrics.get(name="loss").chart)
    append(path, "".join(f'{{"loss": {s}}}\n' for s in range(5)))
    reader.finish()
    ended = Reduced.from_stored(running.metrics.get(name="loss").chart)
    assert ended.shown[: len(live.shown)] == live.shown  # extended, not read whole again
    assert ended.count == running.metrics.get(name="loss").count == charts.REFRESH_POINTS + 5
    assert ended.ends == (0, charts.REFRESH_POINTS + 4) and len(ended.seconds) == len(ended.shown)


def test_the_end_of_a_run_reads_whole_a_metric_given_steps_its_reduction_covers(running, tmp_path):
    path = tmp_path / "m.jsonl"
    reader = RunMetrics(running.id, path, RunLog(running))
    append(path, "".join(f'{{"loss": {s}}}\n' for s in range(charts.REFRESH_POINTS)))
    reader.tick()
    append(path, '{"loss": -1, "step": 10}\n')  # the worker waits before reading whole…
    reader.tick()
    reader.finish()  # …but not once the run ended
    kept = Reduced.from_stored(running.metrics.get(name="loss").chart)
    assert kept.count == charts.REFRESH_POINTS + 1 and (10, -1.0) in kept.shown
