from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def score(value: float | None) -> str:
    """A score to four decimals, or a dash when there is none."""
    return "—" if value is None else floatformat(value, 4)
