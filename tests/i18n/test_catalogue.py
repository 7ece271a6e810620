"""The Japanese catalogue holds every message the code and templates mark, none of them fuzzy,
and its compiled .mo (committed, so that running needs no gettext tools) matches it."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
SOURCES = ["aicenter", "packages", "datasets", "pipelines", "templates", "manage.py"]
# The command README.md gives for refreshing the catalogue takes the same options.
MAKEMESSAGES = ["makemessages", "-l", "ja", "--no-location", "--ignore=var"]
ENTRY = re.compile(
    r'^(?:msgctxt "(?P<context>.*)"\n)?msgid (?P<id>(?:".*"\n)+)(?:msgid_plural (?:".*"\n)+)?',
    re.M,
)


def messages_of(po_text: str) -> set[str]:
    """Every message of a .po file as gettext keys it: "context\\x04id", or the id."""
    keys = set()
    for entry in ENTRY.finditer(po_text + "\n"):
        msgid = "".join(re.findall(r'"(.*)"', entry["id"]))
        if not msgid:
            continue  # the header
        text = msgid.encode().decode("unicode_escape").encode("latin-1").decode()
        keys.add(f"{entry['context']}\x04{text}" if entry["context"] else text)
    return keys


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """The messages makemessages finds today, extracted into a copy of the sources."""
    if not shutil.which("xgettext"):
        reason = "gettext is not installed (apt-get install gettext)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    copy = tmp_path_factory.mktemp("sources")
    base = Path(settings.BASE_DIR)
    for name in SOURCES:
        source = base / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)
    (copy / "locale").mkdir()
    environment = {**os.environ, "AICENTER_DATA_DIR": str(copy / "var")}
    environment.pop("DATABASE_URL", None)
    subprocess.run(  # noqa: S603 - our own interpreter and management command
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        env=environment,
        check=True,
        capture_output=True,
    )
    return messages_of((copy / "locale/ja/LC_MESSAGES/django.po").read_text())


def committed_po() -> str:
    return (LOCALE / "ja/LC_MESSAGES/django.po").read_text()


def test_every_marked_message_is_in_the_japanese_catalogue(extracted):
    committed = messages_of(committed_po())
    assert sorted(extracted - committed) == []
    assert sorted(committed - extracted) == []


def test_no_japanese_message_is_fuzzy_or_obsolete():
    po = committed_po()
    assert "#, fuzzy" not in po
    assert "#~" not in po


def test_the_compiled_catalogue_translates_every_message(extracted):
    with open(LOCALE / "ja/LC_MESSAGES/django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog
    translated = {key if isinstance(key, str) else key[0] for key in catalogue}
    assert sorted(extracted - translated) == []
    empty = [key for key, text in catalogue.items() if key and not text]
    assert empty == []
