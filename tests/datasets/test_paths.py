import unicodedata

import pytest
from django.core.exceptions import ValidationError

from datasets.paths import (
    ancestors,
    breadcrumbs,
    normalise_all,
    normalise_folder,
    normalise_path,
)


def test_a_clean_relative_path_is_kept_as_it_is():
    assert normalise_path("reviews/train/part 1.csv") == "reviews/train/part 1.csv"


def test_paths_are_stored_in_unicode_nfc():
    decomposed = unicodedata.normalize("NFD", "données/été.csv")
    assert decomposed != "données/été.csv"
    assert normalise_path(decomposed) == "données/été.csv"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "A path cannot be empty."),
        ("../secrets.txt", "'..' is not allowed in a path."),
        ("train/../../etc/passwd", "'..' is not allowed in a path."),
        ("train/./a.csv", "'.' is not allowed in a path."),
        ("/etc/passwd", "the path is absolute"),
        ("C:/data/a.csv", "the path is absolute"),
        ("train\\a.csv", "a path cannot contain a backslash"),
        ("train/a\0.csv", "a path cannot contain a NUL character."),
        ("train/a\n.csv", "a path cannot contain control characters."),
        ("train//a.csv", "the path has an empty segment"),
        ("train/", "the path has an empty segment"),
        ("é" * 128 + ".csv", "is longer than 255 bytes."),
        ("/".join(["abcdefghij"] * 100), "the path is longer than 1,024 bytes."),
    ],
)
def test_each_unsafe_path_is_refused_with_a_clear_message(raw, message):
    with pytest.raises(ValidationError) as refused:
        normalise_path(raw)
    assert message in refused.value.messages[0]


def test_a_name_of_exactly_255_bytes_is_accepted():
    name = "é" * 127 + "a"
    assert len(name.encode()) == 255
    assert normalise_path(f"train/{name}") == f"train/{name}"


def test_the_message_names_the_path_and_shows_a_nul_visibly():
    with pytest.raises(ValidationError) as refused:
        normalise_path("a\0b")
    assert refused.value.messages == ["a\\0b: a path cannot contain a NUL character."]


def test_normalise_all_lists_every_problem_and_repeated_paths_at_once():
    with pytest.raises(ValidationError) as refused:
        normalise_all(["ok.csv", "../a", "/b", "ok.csv", unicodedata.normalize("NFD", "é")])
    assert len(refused.value.messages) == 3
    assert "ok.csv: the path appears twice." in refused.value.messages


def test_a_folder_given_with_slashes_around_it_or_as_slash_is_understood():
    assert normalise_folder("") == ""
    assert normalise_folder("/") == ""
    assert normalise_folder("/train/") == "train"
    with pytest.raises(ValidationError):
        normalise_folder("train/../..")


def test_ancestors_and_breadcrumbs_go_from_the_top_down():
    assert ancestors("a/b/c.csv") == ["a", "a/b"]
    assert ancestors("c.csv") == []
    assert breadcrumbs("a/b") == [("a", "a"), ("b", "a/b")]
    assert breadcrumbs("") == []
