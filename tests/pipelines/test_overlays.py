"""Several runs' curves of one metric on shared axes, each reduced to its share of points."""

from django.utils import translation

from pipelines import overlays
from pipelines.charts import CHART_POINTS, LEFT, RIGHT, WIDTH
from pipelines.models import Status
from pipelines.overlays import LINE_POINTS, Series, overlay, points_by_run
from tests.pipelines.builders import report, run_of, snapshotting_pipeline


def test_the_axes_hold_every_line_so_a_shorter_run_ends_part_way():
    short = Series(0, "Run #1", [(0, 1.0), (10, 0.5)])
    long = Series(1, "Run #2", [(0, 2.0), (40, 0.25)])
    chart = overlay("loss", [short, long])
    assert [tick.label for tick in chart.x_ticks] == ["0", "10", "20", "30", "40"]
    assert chart.y_ticks[0].label == "0.5" and chart.y_ticks[-1].label == "2"
    right_end = float(chart.lines[1].path.split()[-1][1:].split(",")[0])
    short_end = float(chart.lines[0].path.split()[-1][1:].split(",")[0])
    assert right_end == WIDTH - RIGHT
    assert LEFT < short_end < (LEFT + WIDTH - RIGHT) / 2


def test_more_lines_share_the_points_a_chart_draws():
    points = [(step, float(step % 7)) for step in range(5000)]
    lines = [Series(index, f"Run #{index}", points) for index in range(10)]
    chart = overlay("loss", lines)
    drawn = [line.dot_marks.count("<circle") for line in chart.lines]
    assert drawn == [max(CHART_POINTS // 10, LINE_POINTS)] * 10


def test_gaps_break_a_line_and_a_run_of_only_gaps_draws_nothing():
    broken = Series(0, "Run #1", [(0, 1.0), (1, None), (2, 0.5), (3, 0.25)])
    empty = Series(1, "Run #2", [(0, None), (1, None)])
    with translation.override("en"):
        chart = overlay("loss", [broken, empty])
    assert [part[0] for part in chart.lines[0].path.split()] == ["M", "M", "L"]
    assert chart.lines[1].path == "" and chart.lines[1].dot_marks == ""
    assert "<title>Run #1, step 2: 0.5</title>" in chart.lines[0].dot_marks


def test_a_long_line_is_read_as_its_envelope_keeping_peaks_and_gaps(project, owner, monkeypatch):
    monkeypatch.setattr(overlays, "LONG_LINE", 3000)
    monkeypatch.setattr(overlays, "SLICES", 100)
    pipeline = snapshotting_pipeline(project, owner, {"train/a.csv": b"x\n1\n"})
    run, other = run_of(pipeline, Status.SUCCESSFUL), run_of(pipeline, Status.SUCCESSFUL)
    values: list[float | None] = [1 / (step + 1) for step in range(5000)]
    values[1234], values[2000] = 7.0, None
    report(run, "loss", values)
    report(other, "loss", [1.0, 0.5])
    found = points_by_run([run, other], "loss")
    assert found[other.id] == [(0, 1.0), (1, 0.5)]
    line = found[run.id]
    assert len(line) <= 2 * 100 + 1
    assert 7.0 in [value for _, value in line] and (2000, None) in line
    assert line[0] == (0, 1.0) and line[-1] == (len(values) - 1, values[-1])
    steady = [value for step, value in line if value is not None and step > 1300]
    assert steady == sorted(steady, reverse=True)  # falling, each slice's pair in order
