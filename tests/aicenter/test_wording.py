import json

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_noop

from aicenter.wording import (
    Said,
    counted,
    english,
    kept,
    restored,
    rewritten,
    said_problems,
    say,
    shown,
    stored,
    together,
    worded,
)

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


def test_a_validation_error_keeps_what_was_said_and_reads_as_worded():
    problem = say(gettext_noop("%(name)s: the entry is encrypted."), name="a.csv")
    error = ValidationError({"file": [problem, "plain text"]})
    assert error.messages == ["a.csv: the entry is encrypted.", "plain text"]
    assert said_problems(error) == [problem, "plain text"]
    with translation.override("ja"):
        assert "a.csv" in str(said_problems(error)[0])
        assert "encrypted" not in str(said_problems(error)[0])


def test_the_english_text_is_kept_whatever_the_language_of_the_request():
    with translation.override("ja"):
        assert english(say(KILLED)) == "Killed"
        assert english("as written") == "as written"
    assert kept("as written") is None
    assert shown(None, "as written") == "as written"
    assert shown(say(KILLED).stored(), "anything") == "Killed"


def test_counts_and_lists_are_said_whole():
    cores = [counted(1, "1 core", "%(count)s cores"), counted(3, "1 core", "%(count)s cores")]
    assert str(together(cores)) == "1 core and 3 cores"
    assert together([]) is None


def test_paths_inside_a_said_sentence_can_be_rewritten():
    said = say("%(what)s failed (%(error)s).", what=say("Staging"), error="/srv/worker/run-1/x")
    rewritten_said = rewritten(said, lambda text: text.replace("/srv/worker", "<worker>"))
    assert str(rewritten_said) == "Staging failed (<worker>/run-1/x)."
