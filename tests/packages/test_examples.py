import io
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from aicenter.models import Project
from packages.contract import check_contract
from packages.examples import EXAMPLES, zip_folder


@pytest.mark.parametrize("name", ["flowers-stdlib", "flowers-sklearn", "flowers-mlflow"])
def test_example_packages_follow_the_contract(name):
    contract = check_contract(zipfile.ZipFile(io.BytesIO(zip_folder(EXAMPLES / name))))
    assert contract.problems == []
    assert contract.supported_types == ["training", "evaluation", "full"]


@pytest.mark.django_db
def test_seed_demo_creates_user_project_and_example_packages_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    project = Project.objects.get(name="Demo")
    assert sorted(project.packages.values_list("name", flat=True)) == [
        "flowers-mlflow",
        "flowers-sklearn",
        "flowers-stdlib",
    ]
    assert "Log in as 'demo' with password" in out.getvalue()
    assert Project.objects.count() == 1
