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

from django.utils.translation import gettext

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

    def stored(self) -> dict:
        return {SAID: self.pattern, "values": {k: stored(v) for k, v in self.values.items()}}


def say(pattern: str, **values) -> Said:
    return Said(pattern, values)


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
