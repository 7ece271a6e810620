"""How every app writes a score, a duration, an interval and a moment.

Templates use them as filters (`{{ run.score|score }}`); Python code that needs the same
text, such as the comparison tables and the schedule summary, calls the functions.
"""

from datetime import datetime

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

register = template.Library()

MISSING = "—"
INTERVAL_WORDS = {
    "minutes": lambda n: ngettext("%(count)s minute", "%(count)s minutes", n),
    "hours": lambda n: ngettext("%(count)s hour", "%(count)s hours", n),
    "days": lambda n: ngettext("%(count)s day", "%(count)s days", n),
    "weeks": lambda n: ngettext("%(count)s week", "%(count)s weeks", n),
}
MINUTES_IN = {"minutes": 1, "hours": 60, "days": 24 * 60, "weeks": 7 * 24 * 60}


@register.filter(name="score")
def score_text(value: float | None) -> str:
    """A score to four decimals, or a dash when there is none."""
    return MISSING if value is None else floatformat(value, 4)


@register.filter(name="significant")
def significant_text(value: float | None) -> str:
    """A measured value to four significant digits (0.0001234, 1.235e+06), or a dash."""
    return MISSING if value is None else f"{value:.4g}"


@register.filter(name="duration")
def duration_text(seconds: float | None) -> str:
    """12.4 -> "12.4 s", 754 -> "12 min 34 s", 7260 -> "2 h 1 min"."""
    if seconds is None or seconds == "":  # a template passes "" for a run that is not there
        return MISSING
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": f"{seconds:g}"}
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}


def in_largest_unit(minutes: int) -> tuple[int, str]:
    """An interval as a whole number of its largest unit: 2880 -> (2, "days")."""
    for unit in reversed(MINUTES_IN):
        if minutes % MINUTES_IN[unit] == 0:
            return minutes // MINUTES_IN[unit], unit
    return minutes, "minutes"


@register.filter(name="interval")
def interval_text(minutes: int) -> str:
    """360 -> "6 hours", 1440 -> "1 day", 90 -> "90 minutes"."""
    count, unit = in_largest_unit(minutes)
    return INTERVAL_WORDS[unit](count) % {"count": count}


@register.filter(name="when")
def when_html(moment: datetime | None) -> str:
    """A moment as "3 hours ago" that never wraps, the exact time on hover."""
    if not moment:
        return MISSING
    exact = date_format(localtime(moment), "Y-m-d H:i:s T")
    return format_html(
        '<time class="when" datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        exact,
        naturaltime(moment),
    )


NETWORK_GIVEN = {
    "gate": gettext_noop("HTTPS to the internet, through the network gate"),
    "host": gettext_noop("the host's"),
    "off": gettext_noop("asked for, not given (RUN_NETWORK=off)"),
}


@register.filter(name="network")
def network_text(asked: bool) -> str:
    """What a pipeline's runs get when they ask for the network, on this service."""
    return _(NETWORK_GIVEN[settings.RUN_NETWORK]) if asked else _("none")


@register.filter(name="pipeline_type")
def pipeline_type_text(kind: str) -> str:
    """A pipeline type a package supports, "training", in the reader's words."""
    from packages.contract import PipelineType  # packages' models load after this library

    return str(PipelineType(kind).label).lower() if kind in PipelineType.values else kind


@register.filter(name="pairs")
def pairs(mapping: dict) -> list[tuple]:
    """A dictionary's (key, value) pairs, in its order: `mapping.items` in a template looks
    up a key named "items" first, and a run's code or a person may name one so."""
    return list(mapping.items())
