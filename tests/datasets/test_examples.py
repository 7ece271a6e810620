from io import StringIO

import pytest
from django.core.management import call_command

from aicenter.models import Project
from datasets.examples import load_example_datasets


def test_the_flowers_example_is_loaded_once_with_its_train_and_test_folders(project, owner):
    assert load_example_datasets(project, owner) == ["flowers"]
    assert load_example_datasets(project, owner) == []
    flowers = project.datasets.get(name="flowers")
    assert sorted(flowers.files.values_list("path", flat=True)) == [
        "test/flowers.csv",
        "train/flowers.csv",
    ]
    assert flowers.files.get(path="train/flowers.csv").content_type == "text/csv"


@pytest.mark.django_db
def test_seed_demo_loads_the_example_dataset_into_the_demo_project():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    demo = Project.objects.get(name="Demo")
    assert list(demo.datasets.values_list("name", flat=True)) == ["flowers"]
    assert out.getvalue().count("Loaded example dataset flowers.") == 1
