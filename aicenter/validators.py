import re

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Names of packages and datasets end up in paths, zip names and URLs.
name_characters = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_-]{0,79}$",
    _("Use letters, digits, - and _, starting with a letter (at most 80)."),
)


def whole_number(text: str) -> int | None:
    """The number that text from a request spells in ASCII digits, or None: str.isdigit()
    also takes "²", which int() refuses, and 19 digits pass what a database's id holds."""
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None


WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
