"""The main pages in Japanese: no English word is left but names, units and code, which finds
strings never marked for translation."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from aicenter.models import EventKind, record_event
from aicenter.wording import say
from pipelines.models import STATUS_SAYS, WITH_DETAIL, Status, Worker
from pipelines.resources import GB
from pipelines.runner.logs import RunLog
from pipelines.runner.publish import MADE_VERSION
from pipelines.runner.run import STARTED_ON, TIMED_OUT
from tests.factories import api_client, logged_in_client, package_zip, uploaded, zip_bytes
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


def states(project, owner, furnished) -> dict[str, str]:
    """Pages in the states a person meets less often: runs failed and waiting, a worker
    reported, a folder of a dataset."""
    pipeline, data, version = furnished["pipeline"], furnished["data"], furnished["version"]
    failed = run_of(pipeline, Status.FAILED, error="ValueError: sepal")
    scheduled = run_of(pipeline, Status.SCHEDULED)
    Worker.objects.create(name="box", queue="aicenter", cpus=4, memory_bytes=8 * GB, gpus=1)
    return {
        "pipelines with a scheduled run": reverse("pipelines:list", args=[project.id]),
        "failed run": failed.get_absolute_url(),
        "dataset folder": reverse("datasets:folder", args=[project.id, data.id, "flowers"]),
        "dataset upload": reverse("datasets:upload", args=[project.id, data.id]),
        "edit pipeline": reverse("pipelines:edit", args=[project.id, pipeline.id]),
        "delete pipeline": reverse("pipelines:delete", args=[project.id, pipeline.id]),
        "scheduled run": scheduled.get_absolute_url(),
        "stop run": reverse("pipelines:kill", args=[project.id, scheduled.id]),
        "run again with changes": reverse("pipelines:run-change", args=[project.id, failed.id]),
        "run metrics": reverse("pipelines:run-metrics", args=[project.id, failed.id]),
        "dataset file": reverse("datasets:file", args=[project.id, data.id, "flowers/train/a.csv"]),
        "compare runs": f"{reverse('pipelines:compare', args=[project.id])}?runs={failed.id}",
        "new folder": reverse("datasets:folder-create", args=[project.id, data.id]),
        "delete dataset": reverse("datasets:delete", args=[project.id, data.id]),
        "delete package": reverse("packages:delete", args=[project.id, version.package_id]),
        "compare versions": reverse("packages:compare", args=[project.id, version.package_id]),
        "upload version": reverse("packages:version-upload", args=[project.id, version.package_id]),
    }


def refusals(project, furnished) -> dict[str, tuple[str, dict]]:
    """Forms sent with what they refuse, each answered with the form and its problems."""
    p, data = project.id, furnished["data"]
    unsafe = zip_bytes({"../up.csv": b"x", "a\\b.csv": b"x"})
    requirements = "-r other.txt\n./wheels/x.whl\n--index-url ../local\n"
    broken = package_zip(**{"main.py": None, "requirements.txt": requirements})
    files = [uploaded(b"1", "a"), uploaded(b"2", "b")]
    pipeline = {
        "name": "nightly",
        "pipeline_type": "training",
        "package": furnished["version"].package_id,
        "version": "9.9",
        "schedule_kind": "recurring",
        "repeat": "cron",
        "cron": "every day",
        "cpus": "64",
        "memory_gb": "4",
    }
    return {
        "refused dataset zip": (
            reverse("datasets:upload-zip", args=[p, data.id]),
            {"path": "", "archive": uploaded(unsafe, "data.zip")},
        ),
        "dataset zip against the tree": (
            reverse("datasets:upload-zip", args=[p, data.id]),
            {"path": "", "archive": uploaded(zip_bytes({"flowers": b"x"}), "data.zip")},
        ),
        "existing folder": (
            reverse("datasets:folder-create", args=[p, data.id]),
            {"path": "", "name": "flowers"},
        ),
        "refused dataset files": (
            reverse("datasets:upload", args=[p, data.id]),
            {"path": "", "paths": ["flowers", "a//b"], "files": files},
        ),
        "refused dataset name": (reverse("datasets:create", args=[p]), {"name": "9 bad"}),
        "refused package": (
            reverse("packages:upload", args=[p]),
            {"name": "broken", "python_version": "3.12", "file": uploaded(broken)},
        ),
        "refused pipeline": (reverse("pipelines:create", args=[p]), pipeline),
    }


def names_of(project, furnished) -> set[str]:
    """What the test named, which stays as it was written."""
    names = {"Vision", "olivia", "eddie", "vera", "petals", "flowers", "train", "nightly", "box"}
    names |= {"aicenter", "broken", "sepal", "ValueError", "a", "b", "every", "day", "r", "local"}
    names |= {"numpy", "name", "https", "http", "URL", "index-url"}
    names |= set(english_words(project.description))
    names |= set(english_words(furnished["version"].package.name))
    names |= set(english_words(furnished["version"].package.description))
    return names


def english_left(client, urls: dict[str, str], names: set[str]) -> dict[str, list[str]]:
    found = {}
    for page, url in urls.items():
        response = client.get(url, headers=JAPANESE)
        assert response.status_code == 200, page
        if left := unmarked(response.text, names):
            found[page] = left
    return found


def test_the_main_pages_in_japanese_have_no_english_word_left(
    project, owner, owner_client, furnished
):
    found = english_left(owner_client, pages(project, furnished), names_of(project, furnished))
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())


def test_pages_in_rarer_states_in_japanese_have_no_english_word_left(
    project, owner, owner_client, furnished
):
    urls = states(project, owner, furnished)
    found = english_left(owner_client, urls, names_of(project, furnished))
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())


def test_refused_forms_list_their_problems_in_japanese(project, owner_client, furnished):
    found = {}
    for page, (url, body) in refusals(project, furnished).items():
        response = owner_client.post(url, body, headers=JAPANESE)
        assert response.status_code in {200, 400}, page
        assert re.search(r"class=\"(errors|error)\b", response.text), page
        if left := unmarked(response.text, names_of(project, furnished)):
            found[page] = left
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())


def test_api_errors_are_worded_in_japanese(project, owner, furnished):
    client, p = api_client(owner), project.id
    names = names_of(project, furnished)
    run = furnished["run"]
    answers = {
        "no token": Client().get(f"/api/v1/projects/{p}/datasets", headers=JAPANESE),
        "not found": client.get(f"/api/v1/projects/{p + 1000}/datasets", headers=JAPANESE),
        "bad page": client.get(f"/api/v1/projects/{p}/datasets?page=9", headers=JAPANESE),
        "bad body": client.post(
            f"/api/v1/projects/{p}/datasets", "[1]", "application/json", headers=JAPANESE
        ),
        "compare": client.get(f"/api/v1/projects/{p}/runs/compare?runs={run.id}", headers=JAPANESE),
        "bad path": client.put(
            f"/api/v1/projects/{p}/datasets/{furnished['data'].id}/files/flowers/../petals",
            b"1",
            "application/octet-stream",
            headers=JAPANESE,
        ),
    }
    found = {}
    for name, response in answers.items():
        assert response.status_code >= 400, name
        detail = response.json()["detail"]
        japanese = re.search(r"[\u3040-\u30ff]", detail) is not None
        if not japanese or set(english_words(detail)) - ALLOWED - names:
            found[name] = detail
    assert not found, found


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


def test_error_pages_and_the_login_page_read_in_japanese(project, viewer, owner_client, furnished):
    """The login page, a missing page, a refusal and a body too large."""
    answers = {
        "login": (Client().get(reverse("login"), headers=JAPANESE), 200),
        "missing": (owner_client.get("/no/such/page/", headers=JAPANESE), 404),
        "refused": (
            logged_in_client(viewer).get(
                reverse("packages:upload", args=[project.id]), headers=JAPANESE
            ),
            403,
        ),
        "too large": (
            owner_client.post(reverse("profile"), headers=JAPANESE, CONTENT_LENGTH=str(1 << 40)),
            413,
        ),
    }
    found = {}
    for page, (response, status) in answers.items():
        assert response.status_code == status, page
        if left := unmarked(response.text, names_of(project, furnished)):
            found[page] = left
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())
