"""The one way every page and answer writes a score, a duration and an interval."""

import pytest
from django.template import Context, Template

from aicenter.templatetags.aicenter import (
    MISSING,
    duration_text,
    in_largest_unit,
    interval_text,
    score_text,
)


def rendered(source: str, **context) -> str:
    return Template("{% load aicenter %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("value", "text"), [(0.8, "0.8000"), (0.91234, "0.9123"), (-0.05, "-0.0500"), (None, MISSING)]
)
def test_a_score_has_four_decimals_or_a_dash(value, text):
    assert score_text(value) == text
    assert rendered("{{ value|score }}", value=value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (12.4, "12.4 s"),
        (3.0, "3 s"),
        (60.0, "1 min 0 s"),
        (754, "12 min 34 s"),
        (7260, "2 h 1 min"),
        (None, MISSING),
    ],
)
def test_a_duration_is_written_in_its_largest_units(seconds, text):
    assert duration_text(seconds) == text
    assert rendered("{{ seconds|duration }}", seconds=seconds) == text


def test_a_duration_of_a_run_that_is_not_there_is_a_dash():
    assert rendered("{{ run.execution_time|duration }}", run=None) == MISSING


@pytest.mark.parametrize(
    ("minutes", "unit", "text"),
    [
        (90, (90, "minutes"), "90 minutes"),
        (60, (1, "hours"), "1 hour"),
        (360, (6, "hours"), "6 hours"),
        (1440, (1, "days"), "1 day"),
        (2880, (2, "days"), "2 days"),
        (20160, (2, "weeks"), "2 weeks"),
    ],
)
def test_an_interval_is_a_whole_number_of_its_largest_unit(minutes, unit, text):
    assert in_largest_unit(minutes) == unit
    assert interval_text(minutes) == text
    assert rendered("{{ minutes|interval }}", minutes=minutes) == text
