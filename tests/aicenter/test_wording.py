import json

from django.utils import translation
from django.utils.translation import gettext_noop

from aicenter.wording import Said, restored, say, stored, worded

KILLED = gettext_noop("Killed")


def test_a_said_sentence_survives_the_database_and_follows_the_language():
    kept = json.loads(json.dumps(say(KILLED).stored()))
    with translation.override("en"):
        assert worded(kept) == "Killed"
    with translation.override("ja"):
        japanese = worded(kept)
    assert japanese not in {"Killed", ""}


def test_values_are_put_in_and_nested_sentences_are_worded_too():
    inner = say("%(name)s: the entry is encrypted.", name="a.csv")
    outer = say("%(name)s: upload refused.\n%(reasons)s", name="pkg", reasons=[inner, inner])
    again = restored(json.loads(json.dumps(stored(outer))))
    assert again == outer
    assert (
        str(again)
        == "pkg: upload refused.\na.csv: the entry is encrypted.\na.csv: the entry is encrypted."
    )


def test_a_pattern_missing_a_value_or_unknown_is_shown_as_it_was_stored():
    assert (
        str(Said("Unknown sentence of an older version."))
        == "Unknown sentence of an older version."
    )
    assert str(say("%(count)s left", other=1)) == "%(count)s left"


def test_plain_text_and_nothing_are_shown_as_written():
    assert worded("ValueError: bad input") == "ValueError: bad input"
    assert worded(None) == ""
    assert restored({"not": "said"}) == {"not": "said"}
