from django import template

from packages.compare import duration_text

register = template.Library()
register.filter("duration", duration_text)
