"""Every page fits a phone and a laptop, with the longest names a person may choose, in
English and in Japanese (whose labels wrap differently).

Set SCREENSHOTS_DIR to keep a full-page picture of each page at each width.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page

from aicenter.models import Membership
from pipelines.models import DEFAULT_PARAMETERS, Status
from tests.aicenter.urlwalk import page_urls
from tests.datasets.test_previews import PNG
from tests.e2e.pages import log_in
from tests.factories import make_project, make_user
from tests.pipelines.builders import (
    dataset_with,
    package_version_with,
    publish,
    report,
    run_of,
    store_artifacts,
    training_pipeline,
    write_log,
)

PHONE, LAPTOP = 390, 1366
LONG = "a-rather-long-name-without-any-space-to-break-at"
DEEP = f"{LONG}/second_level_folder_name/third_level_folder_name/fourth_level_folder"
TRAIN_PY = """\
class Main:
    def train(self, training_directory):
        pass

    def evaluate(self, evaluation_directory):
        return 0.9

    def save(self):
        pass

    def process_data(self, input_directory):
        pass
"""
# Fragments that htmx swaps into a page, and the pages of signing in and out.
NOT_PAGES = re.compile(r"^/accounts/|/header$|/logs/lines$")


def long_named_project(user) -> dict:
    """A project whose every name is as long as a person might make it, with a finished run."""
    project = make_project(user, f"Project {LONG}")
    version = package_version_with(project, user, TRAIN_PY, name=f"package-{LONG}")
    csv = b"sepal_length_in_centimetres,petal_width_in_centimetres,species_name\n5.1,0.2,setosa\n"
    files = {
        f"{DEEP}/measurements-{LONG}.csv": csv,
        f"{DEEP}/README-{LONG}.md": b"# Notes\n\nA paragraph about the data.\n",
        f"{LONG}/other-{LONG}.csv": csv,
    }
    data = dataset_with(project, f"dataset-{LONG}", files)
    parameters = {**DEFAULT_PARAMETERS, "save_training_data": "true", f"param_{LONG}": LONG * 2}
    pipeline = training_pipeline(
        project, user, version, data, name=f"pipeline-{LONG}", input_path=DEEP,
        evaluation_dataset=data, evaluation_path=LONG, parameters=parameters,
    )  # fmt: skip
    earlier = run_of(pipeline, Status.FAILED, error=f"Failed reading {DEEP}/{LONG}.csv")
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(
        run, {f"{DEEP}/loss-{LONG}.png": PNG, f"{LONG}/predictions-{LONG}.csv": csv, "n.txt": b"1"}
    )
    write_log(run, [("stdout", f"reading {DEEP}/{LONG}.csv " * 3), ("stderr", LONG * 3)])
    run = publish(run, score=0.9)
    other = package_version_with(project, user, TRAIN_PY, name=f"other-{LONG}")
    third = run_of(pipeline, Status.SUCCESSFUL, package_version=other)
    for each in (earlier, run, third):
        report(each, f"loss-{LONG}", [1 / (step + each.id) for step in range(50)])
    return {
        "project_id": project.id,
        "package_id": version.package_id,
        "version": version.label,
        "dataset_id": data.id,
        "path": f"{DEEP}/measurements-{LONG}.csv",
        "pipeline_id": pipeline.id,
        "run_id": run.id,
        "membership_id": Membership.objects.get(project=project, user=user).id,
        "earlier_run_id": earlier.id,
        "third_run_id": third.id,
    }


def pages_of(values: dict) -> list[str]:
    """Every page of the project once, plus the views a person reaches by choosing something."""
    project, dataset, run = values["project_id"], values["dataset_id"], values["run_id"]
    base = f"/projects/{project}"
    extra = [
        f"{base}/datasets/{dataset}/folders/{DEEP}",
        f"{base}/datasets/{dataset}/files/{DEEP}/README-{LONG}.md",
        f"{base}/pipelines/runs/{run}/artifact/{LONG}/predictions-{LONG}.csv",
        f"{base}/pipelines/compare?runs={run}&runs={values['earlier_run_id']}"
        f"&runs={values['third_run_id']}",
        f"{base}/packages/{values['package_id']}/compare",
        "/profile/",
    ]
    walked = [url for url in page_urls(values) if not NOT_PAGES.search(url)]
    return sorted(set(walked + extra))


def is_page(page: Page, url: str) -> bool:
    """Whether a GET of the URL answers a page of HTML (not a download, a redirect or a 405)."""
    answer = page.request.get(url, max_redirects=0)
    return answer.status == 200 and "text/html" in answer.headers.get("content-type", "")


def shoot(page: Page, stem: Path, width: int, height: int = 1200) -> None:
    """The whole page in pictures of `height` pixels, small enough to look at."""
    full = page.evaluate("document.documentElement.scrollHeight")
    for part, top in enumerate(range(0, full, height)):
        clip = {"x": 0, "y": top, "width": width, "height": min(height, full - top)}
        page.screenshot(path=f"{stem}-{part}.png", clip=clip, full_page=True)


def overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def widest_elements(page: Page) -> list[str]:
    """What sticks out past the right edge, to name in the failure."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5)
            .map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`)"""
    )


def choose_language(page: Page, base_url: str, language: str) -> None:
    """What the header's chooser leaves behind: the language cookie."""
    cookie = {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}
    page.context.add_cookies([cookie])


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_every_page_fits_the_screen_without_breaking_the_policy(
    live_server, page: Page, width, language
):
    user = make_user(f"owner-{LONG}")
    values = long_named_project(user)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server.url, user.username)
    choose_language(page, live_server.url, language)
    shots = os.environ.get("SCREENSHOTS_DIR")

    too_wide, visited = {}, 0
    for url in pages_of(values):
        if not is_page(page, f"{live_server.url}{url}"):
            continue
        page.goto(f"{live_server.url}{url}")
        visited += 1
        page.wait_for_load_state("networkidle")
        if overflow(page) > 0:
            too_wide[url] = widest_elements(page)
        if shots:
            name = re.sub(r"[^a-z0-9]+", "-", url.replace(LONG, "L")).strip("-")[:60]
            shoot(page, Path(shots) / f"{language}-{width}-{visited:02}-{name}", width)

    assert visited > 25
    assert page.locator("html").get_attribute("lang") == language
    assert too_wide == {}
    assert [text for text in refused if "Content Security Policy" in text] == []
