"""A package's score chart: a value axis with round ticks, the versions along the bottom
(thinned out when many), each score on hover and written beside its point when few."""

from dataclasses import dataclass

from packages.charts import LABELLED_VERSIONS, score_chart


@dataclass
class Version:
    label: str
    score: float | None


def test_the_value_axis_has_round_ticks_and_higher_scores_are_drawn_higher():
    chart = score_chart([Version("1.0", 0.62), Version("1.1", None), Version("1.2", 0.91)])
    assert [tick.label for tick in chart.y_ticks] == ["0.7", "0.8", "0.9"]
    low, high = chart.points
    assert [low.label, high.label] == ["1.0", "1.2"]  # unscored versions are left out
    assert high.y < low.y and low.x < high.x
    for point in chart.points:
        assert chart.left < point.x < chart.right and chart.top <= point.y <= chart.bottom
    assert chart.write_scores and [point.score_text for point in chart.points] == ["0.62", "0.91"]
    assert all(point.labelled for point in chart.points)


def test_many_versions_keep_every_point_and_label_only_some():
    chart = score_chart([Version(f"1.{minor}", minor / 50) for minor in range(50)])
    labelled = [point.label for point in chart.points if point.labelled]
    assert len(chart.points) == 50 and not chart.write_scores
    assert labelled[-1] == "1.49" and len(labelled) <= LABELLED_VERSIONS


def test_no_scored_version_draws_no_chart():
    assert score_chart([Version("1.0", None)]) is None
