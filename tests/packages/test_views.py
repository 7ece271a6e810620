import os

import pytest
from django.urls import reverse

from aicenter.store import get_store
from packages.models import MLPackage, PackageVersion
from packages.upload import upload_package
from tests.factories import logged_in_client, make_project, package_zip, uploaded
from tests.pipelines.builders import dataset_with, history, training_pipeline


@pytest.fixture
def version(project, owner):
    return upload_package(
        project,
        name="sentiment",
        description="Reviews",
        python_version="3.12",
        file=uploaded(package_zip(**{"requirements.txt": "numpy==2.1.0\n"})),
        user=owner,
    )


def upload_form(name="sentiment", content=None) -> dict:
    return {
        "name": name,
        "description": "Reviews",
        "python_version": "3.12",
        "file": uploaded(content if content is not None else package_zip()),
    }


def test_editor_uploads_a_package_and_lands_on_it(project, editor):
    response = logged_in_client(editor).post(
        reverse("packages:upload", args=[project.id]), upload_form()
    )
    package = MLPackage.objects.get(name="sentiment")
    assert response.status_code == 302
    assert response.url == package.get_absolute_url()
    assert package.latest_version.label == "1.0"


def test_upload_page_lists_every_problem_of_a_broken_zip(project, owner_client):
    broken = package_zip(**{"train.py": "class Main:\n  def train(self\n", "main.py": None})
    response = owner_client.post(
        reverse("packages:upload", args=[project.id]), upload_form(content=broken)
    )
    assert response.status_code == 400
    assert "train.py, line 2:" in response.text
    assert "main.py is missing at the root of the package." in response.text
    assert not MLPackage.objects.exists()


def test_upload_page_names_each_refused_requirement_line(project, owner_client):
    content = package_zip(**{"requirements.txt": "numpy==2.1.0\n-c constraints.txt\n"})
    response = owner_client.post(
        reverse("packages:upload", args=[project.id]), upload_form(content=content)
    )
    assert response.status_code == 400
    assert "requirements.txt, line 2: -c reads another file" in response.text
    assert not MLPackage.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("class", "is a Python keyword"), ("../etc", "Use letters, digits"), ("a b", "Use letters")],
)
def test_upload_refuses_unsafe_names(project, owner_client, name, message):
    response = owner_client.post(
        reverse("packages:upload", args=[project.id]), upload_form(name=name)
    )
    assert response.status_code == 400
    assert message in response.text


def test_upload_refuses_a_name_taken_in_the_project(project, owner_client, version):
    response = owner_client.post(reverse("packages:upload", args=[project.id]), upload_form())
    assert "already has a package named sentiment" in response.text
    assert PackageVersion.objects.count() == 1


def test_upload_over_the_size_limit_is_refused_before_reading(project, owner_client, settings):
    settings.MAX_UPLOAD_BYTES = 2048
    content = package_zip(**{"weights.bin": os.urandom(4096)})
    response = owner_client.post(
        reverse("packages:upload", args=[project.id]), upload_form(content=content)
    )
    assert response.status_code == 413
    assert "larger than the limit of 2,048 bytes" in response.text
    assert not MLPackage.objects.exists()
    assert list(get_store().list("")) == []


def test_viewer_cannot_upload(project, viewer_client):
    response = viewer_client.post(reverse("packages:upload", args=[project.id]), upload_form())
    assert response.status_code == 403
    assert not MLPackage.objects.exists()


def test_list_shows_latest_version_and_count(project, viewer_client, version):
    response = viewer_client.get(reverse("packages:list", args=[project.id]))
    assert "sentiment" in response.text
    assert response.context["packages"][0].version_count == 1


def test_package_page_shows_versions_and_a_chart_once_scored(project, viewer_client, version):
    url = version.package.get_absolute_url()
    assert viewer_client.get(url).context["chart"] is None
    version.score = 0.82
    version.save(update_fields=["score"])
    response = viewer_client.get(url)
    assert response.context["chart"].points[0].label == "1.0"
    assert "<svg" in response.text
    assert "<td>0.8200</td>" in response.text
    assert "<title>Version 1.0: score 0.82</title>" in response.text
    assert 'class="chart-value"' in response.text  # one point: its score is written
    assert "style=" not in response.text and "<script>" not in response.text


def test_package_page_shows_fifty_versions_a_page_and_charts_the_latest_fifty(
    project, owner, viewer_client
):
    package = history(project, owner, versions=60, pipelines=1, runs=1)[0].package_version.package
    response = viewer_client.get(package.get_absolute_url())
    assert [version.label for version in response.context["versions"]][::49] == ["1.59", "1.10"]
    assert "Page 1 of 2 (60 in all)" in response.text
    points = response.context["chart"].points
    assert (len(points), points[0].label, points[-1].label) == (50, "1.10", "1.59")
    second = viewer_client.get(package.get_absolute_url() + "?page=2")
    assert [version.label for version in second.context["versions"]][-1] == "1.0"


def test_version_page_lists_files_requirements_and_types(project, viewer_client, version):
    response = viewer_client.get(version.get_absolute_url())
    assert "numpy==2.1.0" in response.text
    assert "train.py" in response.text
    assert "training" in response.text


def test_unknown_or_malformed_version_is_404(project, viewer_client, version):
    for label in ["9.9", "1", "x.y"]:
        url = reverse("packages:version", args=[project.id, version.package_id, label])
        assert viewer_client.get(url).status_code == 404


def test_download_returns_the_zip(project, viewer_client, version):
    url = reverse("packages:download", args=[project.id, version.package_id, "1.0"])
    response = viewer_client.get(url)
    assert response.status_code == 302
    if get_store().__class__.__name__ == "LocalStore":
        download = viewer_client.get(response.url)
        assert b"".join(download.streaming_content) == get_store().get_bytes(version.zip_key)
        assert "sentiment-1.0.zip" in download["Content-Disposition"]
    else:
        assert "X-Amz-Signature=" in response.url


def test_delete_asks_first_then_removes_everything(project, owner_client, version):
    url = reverse("packages:delete", args=[project.id, version.package_id])
    assert "cannot be undone" in owner_client.get(url).text
    assert MLPackage.objects.exists()
    owner_client.post(url)
    assert not MLPackage.objects.exists()
    assert not get_store().exists(version.zip_key)


def test_viewer_cannot_delete(project, viewer_client, version):
    url = reverse("packages:delete", args=[project.id, version.package_id])
    assert viewer_client.post(url).status_code == 403
    assert MLPackage.objects.exists()


def test_a_package_of_another_project_is_404(project, owner, owner_client, version):
    other = make_project(owner, "Other")
    url = reverse("packages:detail", args=[other.id, version.package_id])
    assert owner_client.get(url).status_code == 404


def test_a_package_in_use_by_a_scheduled_run_is_not_deleted(project, owner, owner_client, version):
    training_pipeline(project, owner, version, dataset_with(project, "d", {"a.csv": b"1"}))
    url = reverse("packages:delete", args=[project.id, version.package_id])
    response = owner_client.post(url, follow=True)
    assert "is used by a scheduled or running run; stop it first." in response.text
    assert MLPackage.objects.exists()
    assert get_store().exists(version.zip_key)
