"""The main pages in Japanese: no English word is left but names, units and code, which finds
strings never marked for translation."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from aicenter.models import EventKind, record_event
from aicenter.wording import say
from pipelines.models import STATUS_SAYS, WITH_DETAIL, Status
from pipelines.runner.logs import RunLog
from pipelines.runner.publish import MADE_VERSION
from pipelines.runner.run import STARTED_ON, TIMED_OUT
from tests.pipelines.builders import (
    dataset_with,
    example_version,
    publish,
    run_of,
    store_artifacts,
    training_pipeline,
    write_log,
)

JAPANESE = {"accept-language": "ja"}
# Words that stay as they are in Japanese: product names, units, file formats and code.
ALLOWED_WORDS = """
    AI Center ML API JSON Authorization Bearer token zip Python GPU GPUs CPU UTC HTTPS Cron cron
    SHA GB MB KB bytes UTF NFC English BLOB Web py txt csv json s min h nobody gate host off
    stdout stderr true false CI
"""
ALLOWED = set(ALLOWED_WORDS.split())
# Elements whose text is code or data, not words of the interface.
CODE = {"code", "pre", "script", "style", "option"}
# What a person or their code wrote (its log lines, file names), and the Activity and log lines
# kept as written before the service's sentences were said; the service's own are checked.
WRITTEN = {"written", "tree-file", "tree-folder"}
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-label"}


class Words(HTMLParser):
    """The words a person reads on a page: text outside code, and labelling attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.inside: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in {"br", "input", "img", "meta", "link", "hr"}:
            written = any(name == "class" and WRITTEN & set(value.split()) for name, value in attrs)
            self.inside.append("code" if written else tag)
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.words += english_words(value)

    def handle_endtag(self, tag):
        if tag in self.inside:
            while self.inside.pop() != tag:
                pass
        elif self.inside and self.inside[-1] == "code":
            self.inside.pop()

    def handle_data(self, data):
        if not CODE & set(self.inside):
            self.words += english_words(data)


def english_words(text: str) -> list[str]:
    """Its words, leaving out names of code: files (artifacts.zip) and settings (RUN_TIMEOUT)."""
    text = re.sub(r"\S*_\S*|\S+\.[a-z]+\b", " ", text)
    return re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|\b[A-Za-z]\b", text)


def unmarked(html: str, names: set[str]) -> list[str]:
    reader = Words()
    reader.feed(html)
    return sorted({word for word in reader.words if word not in ALLOWED | names})


@pytest.fixture
def furnished(project, owner):
    """A project with a package, a dataset, a pipeline and a successful run of it."""
    version = example_version(project, owner)
    data = dataset_with(project, "petals", {"flowers/train/a.csv": b"x\n1\n"})
    pipeline = training_pipeline(project, owner, version, data, input_path="flowers/train")
    run = publish(run_of(pipeline, Status.SUCCESSFUL), score=0.9)
    store_artifacts(run, {"model/weights.txt": b"1\n"})
    write_log(run, [("stdout", "epoch 1"), ("system", "done")])
    log = RunLog(run)
    log.system(say(STARTED_ON, run=run.id, worker="petals:1"))
    log.system(say(TIMED_OUT, seconds=60))
    log.flush()
    record_event(project, EventKind.RUN_SUCCESSFUL, "nightly", owner)
    ended = say(STATUS_SAYS[Status.SUCCESSFUL], pipeline="nightly", run=run.id)
    made = say(MADE_VERSION, version="1.1")
    record_event(project, EventKind.RUN_SUCCESSFUL, say(WITH_DETAIL, what=ended, detail=made))
    return {"version": version, "data": data, "pipeline": pipeline, "run": run}


def pages(project, furnished) -> dict[str, str]:
    p, version, run = project.id, furnished["version"], furnished["run"]
    return {
        "home": reverse("home"),
        "profile": reverse("profile"),
        "new project": reverse("project-create"),
        "packages": reverse("packages:list", args=[p]),
        "package": version.package.get_absolute_url(),
        "version": version.get_absolute_url(),
        "upload package": reverse("packages:upload", args=[p]),
        "datasets": reverse("datasets:list", args=[p]),
        "dataset": furnished["data"].get_absolute_url(),
        "new dataset": reverse("datasets:create", args=[p]),
        "pipelines": reverse("pipelines:list", args=[p]),
        "create pipeline": reverse("pipelines:create", args=[p]),
        "pipeline": furnished["pipeline"].get_absolute_url(),
        "run": run.get_absolute_url(),
        "run logs": reverse("pipelines:run-logs", args=[p, run.id]),
        "activity": reverse("activity", args=[p]),
        "members": reverse("members", args=[p]),
        "workers": reverse("pipelines:workers", args=[p]),
    }


def test_the_main_pages_in_japanese_have_no_english_word_left(
    project, owner, owner_client, furnished
):
    names = {"Vision", "olivia", "eddie", "vera", "petals", "flowers", "train", "nightly"}
    names |= set(english_words(project.description))
    names |= set(english_words(furnished["version"].package.name))
    names |= set(english_words(furnished["version"].package.description))
    found = {}
    for page, url in pages(project, furnished).items():
        response = owner_client.get(url, headers=JAPANESE)
        assert response.status_code == 200, page
        left = unmarked(response.text, names)
        if left:
            found[page] = left
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())


def test_a_successful_run_reads_in_japanese(project, owner_client, furnished):
    page = owner_client.get(furnished["run"].get_absolute_url(), headers=JAPANESE).text
    assert "成功" in page
    assert "成果物" in page
    assert '<html lang="ja">' in page


def test_the_create_pipeline_screen_uses_ai_centers_words(project, owner_client, furnished):
    page = owner_client.get(reverse("pipelines:create", args=[project.id]), headers=JAPANESE)
    for words in [
        "パイプラインの種類",
        "トレーニングの実行",
        "評価の実行",
        "フル パイプラインの実行",
    ]:
        assert words in page.text
    assert "入力データセット" in page.text or "パラメーター" in page.text


def test_english_is_unchanged_for_a_browser_asking_for_it(project, owner_client, furnished):
    page = owner_client.get(furnished["run"].get_absolute_url(), headers={"accept-language": "en"})
    assert "Successful" in page.text
    assert "Artifacts" in page.text
