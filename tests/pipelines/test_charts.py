"""Metric charts drawn on the server: long series reduced without losing their shape, axes
with round values, and lines broken where a run reported NaN."""

import math
from dataclasses import replace

from pipelines.charts import (
    CHART_POINTS,
    Axis,
    chart,
    clock,
    drawn,
    lttb,
    nice_ticks,
    reduced,
    time_ticks,
)


def test_lttb_keeps_a_short_series_whole():
    points = [(0, 1.0), (1, 2.0), (2, 0.5)]
    assert lttb(points, 10) == points


def test_lttb_keeps_the_ends_and_as_many_points_as_asked():
    points = [(x, math.sin(x / 50)) for x in range(10_000)]
    kept = lttb(points, 100)
    assert len(kept) == 100
    assert kept[0] == points[0] and kept[-1] == points[-1]
    assert [x for x, _ in kept] == sorted(x for x, _ in kept)


def test_lttb_keeps_a_lone_spike_that_sampling_would_miss():
    points = [(x, 0.0) for x in range(10_000)]
    points[4321] = (4321, 50.0)
    points[7777] = (7777, -20.0)
    kept = lttb(points, 50)
    assert (4321, 50.0) in kept and (7777, -20.0) in kept


def test_ticks_are_round_values_within_the_range():
    assert nice_ticks(0, 29) == [0, 10, 20]
    assert nice_ticks(0.23, 0.95) == [0.4, 0.6, 0.8]
    assert nice_ticks(0, 99_999) == [0, 25_000, 50_000, 75_000]
    assert nice_ticks(3, 3) == [3]


def test_ticks_of_tiny_values_keep_their_digits():
    assert nice_ticks(1e-15, 5e-15) == [1e-15, 2e-15, 3e-15, 4e-15, 5e-15]


def test_values_at_the_ends_of_floats_are_drawn_inside_the_plot():
    for values in [(-1e308, 1e308), (0.0, 5e-324), (1e308, 1e308), (-5e-324, -5e-324)]:
        drawn = chart("extreme", [(0, values[0]), (1, values[1])])
        for dot in drawn.dots:
            assert drawn.left <= dot.x <= drawn.right and drawn.top <= dot.y <= drawn.bottom
        assert "nan" not in drawn.path and "inf" not in drawn.path


def test_a_long_series_is_drawn_with_at_most_a_thousand_points():
    series = [(step, 1 / (step + 1)) for step in range(100_000)]
    drawn = chart("loss", series)
    assert len(drawn.dots) == CHART_POINTS
    assert drawn.path.count("M") == 1 and drawn.path.count("L") == CHART_POINTS - 1
    assert [tick.label for tick in drawn.x_ticks] == ["0", "25,000", "50,000", "75,000"]


def test_the_line_breaks_where_a_value_was_a_gap():
    drawn = chart("loss", [(0, 1.0), (1, 0.8), (2, None), (3, 0.5), (4, 0.4)])
    assert [part[0] for part in drawn.path.split()] == ["M", "L", "M", "L"]
    assert [dot.title for dot in drawn.dots] == [
        "step 0: 1",
        "step 1: 0.8",
        "step 3: 0.5",
        "step 4: 0.4",
    ]


def test_points_lie_inside_the_plot_and_higher_values_are_drawn_higher():
    drawn = chart("accuracy", [(0, 0.2), (1, 0.9)])
    low, high = drawn.dots
    assert high.y < low.y
    for dot in drawn.dots:
        assert drawn.left <= dot.x <= drawn.right and drawn.top <= dot.y <= drawn.bottom


def test_a_metric_made_only_of_gaps_draws_no_line():
    drawn = chart("loss", [(0, None), (1, None)])
    assert drawn.path == "" and drawn.dots == []


def test_time_ticks_fall_on_round_times_and_read_as_a_clock():
    assert time_ticks(0, 100) == [0, 30, 60, 90]
    assert time_ticks(0, 125) == [0, 60, 120]
    assert time_ticks(0, 3 * 3600) == [0, 3600, 7200, 10800]
    assert [clock(seconds) for seconds in [0, 30, 90, 600, 3900]] == [
        "0:00",
        "0:30",
        "1:30",
        "10:00",
        "1:05:00",
    ]


def test_a_time_axis_places_the_reduced_points_at_their_seconds():
    series = replace(reduced([(0, 1.0), (1, 0.5), (2, 0.25)]), seconds=[5.0, 65.0, 125.0])
    drawn_by_time = drawn("loss", series, Axis.TIME)
    assert [tick.label for tick in drawn_by_time.x_ticks] == ["0:00", "1:00", "2:00"]
    assert drawn_by_time.dots[1].title == "step 1 at 1:05: 0.5"
    assert drawn_by_time.dots[0].x < drawn_by_time.dots[1].x < drawn_by_time.dots[2].x


def test_a_time_axis_of_gaps_alone_draws_no_line():
    series = replace(reduced([(0, None), (1, None)]), seconds=[])
    drawn_by_time = drawn("loss", series, Axis.TIME)
    assert drawn_by_time.path == "" and drawn_by_time.dots == []
    assert [tick.label for tick in drawn_by_time.x_ticks] == ["0:00"]


def test_a_series_followed_by_later_steps_lifts_its_line_only_at_a_gap():
    joined = reduced([(0, 1.0), (1, 0.8)]).followed_by(reduced([(2, 0.6), (3, 0.5)]))
    assert joined == reduced([(0, 1.0), (1, 0.8), (2, 0.6), (3, 0.5)])
    for before, after in [
        ([(0, 1.0), (1, None)], [(2, 0.6), (3, 0.5)]),
        ([(0, 1.0), (1, 0.8)], [(2, None), (3, 0.5)]),
    ]:
        joined = reduced(before).followed_by(reduced(after))
        assert joined == reduced(before + after)
        assert len(joined.breaks) == 2 and joined.ends == (0, 3) and joined.count == 4
    assert reduced([(0, None)]).followed_by(reduced([(1, 0.5)])).breaks == [0]
