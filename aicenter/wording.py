"""Sentences the service keeps (activity, a run's error and waiting reason, system log lines,
refusal reasons) are stored as their English pattern with its values and worded in the
reader's language when shown, so that they follow the language of whoever reads them.

    reason = say(gettext_noop("Waiting for a worker with %(lacking)s free."), lacking="2 GB")
    stored = reason.stored()        # JSON for the database
    str(restored(stored))           # "2 GB の空きがあるワーカーを待っています。" in Japanese

A pattern is marked with gettext_noop where it is written, so that makemessages finds it. A
value may itself be said (a reason inside a sentence) or a list of said things (problems).
A pattern whose wording changed since it was stored is still shown, in English.
"""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

SAID = "said"


@dataclass(frozen=True)
class Said:
    pattern: str
    values: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        values = {name: worded(value) for name, value in self.values.items()}
        for pattern in (gettext(self.pattern), self.pattern):
            try:
                return pattern % values if values else pattern
            except (KeyError, TypeError, ValueError):  # a pattern that names other values
                continue
        return self.pattern

    def __hash__(self) -> int:  # its values may hold lists; a ValidationError hashes it
        return hash((self.pattern, repr(self.values)))

    def stored(self) -> dict:
        return {SAID: self.pattern, "values": {k: stored(v) for k, v in self.values.items()}}


def say(pattern: str, **values) -> Said:
    return Said(pattern, values)


def counted(count: int, one: str, many: str) -> Said:
    """`one` for a count of 1, else `many` with the count: both marked with gettext_noop, as
    a pattern kept in the database cannot choose its plural form later."""
    return say(one) if count == 1 else say(many, count=count)


def stored(value):
    """What the database keeps of a value: said things as {"said": pattern, "values": ...}."""
    if isinstance(value, Said):
        return value.stored()
    if isinstance(value, list | tuple):
        return [stored(item) for item in value]
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)


def restored(value):
    """The value that stored() kept, said things said again."""
    if isinstance(value, dict) and isinstance(value.get(SAID), str):
        values = value.get("values") if isinstance(value.get("values"), dict) else {}
        return Said(value[SAID], {k: restored(v) for k, v in values.items()})
    if isinstance(value, list):
        return [restored(item) for item in value]
    return value


def worded(value) -> str:
    """A value as the reader reads it: said things in the active language, lists one a line."""
    if isinstance(value, list):
        return "\n".join(worded(item) for item in value)
    if isinstance(value, dict):
        return worded(restored(value))
    return "" if value is None else str(value)


def english(value) -> str:
    """The English wording, for what is kept as written: a file, a search, an older reader."""
    with translation.override("en"):
        return worded(value)


def kept(value) -> dict | None:
    """What a `said` column keeps of a value: said things stored, plain text nothing (the text
    column holds it as written)."""
    return value.stored() if isinstance(value, Said) else None


def shown(said, written: str) -> str:
    """A row's sentence in the reader's language when it was said, else as it was written."""
    return written if said is None else worded(said)


def said_problems(error: ValidationError) -> list:
    """The problems of a ValidationError as they were made: said ones stay said."""
    lists = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
    return [problem_of(item) for items in lists for item in items]


def problem_of(item: ValidationError):
    if item.params:
        return str(item.message) % item.params
    return item.message if isinstance(item.message, Said) else str(item.message)


AND = gettext_noop("%(some)s and %(other)s")
COMMA = gettext_noop("%(some)s, %(other)s")


def together(items: list, pattern: str = AND) -> Said | None:
    """Said things as one ("a and b and c", or with COMMA "a, b, c"); None for none."""
    if not items:
        return None
    said = items[0]
    for item in items[1:]:
        said = say(pattern, some=said, other=item)
    return said


def rewritten(value, change):
    """The value with `change` applied to the text it holds, inside said things too."""
    if isinstance(value, Said):
        return Said(value.pattern, {k: rewritten(v, change) for k, v in value.values.items()})
    if isinstance(value, list):
        return [rewritten(item, change) for item in value]
    return change(value) if isinstance(value, str) else value


def said_of(error: BaseException) -> Said | None:
    """What an exception raised with a said sentence said; None for any other."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, Said) else None
