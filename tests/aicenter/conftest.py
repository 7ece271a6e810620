import pytest

from aicenter.models import Membership
from tests.factories import make_dataset
from tests.pipelines.builders import example_version, training_pipeline


@pytest.fixture
def furnished(project, owner):
    """Values for every URL parameter, naming one real object of each kind in the project."""
    version = example_version(project, owner)
    dataset = make_dataset(project, "reviews", {"x": "1,2\n"}, user=owner)
    pipeline = training_pipeline(project, owner, version, dataset)
    return {
        "project_id": project.id,
        "package_id": version.package_id,
        "version": version.label,
        "dataset_id": dataset.id,
        "path": "x",
        "pipeline_id": pipeline.id,
        "run_id": pipeline.runs.get().id,
        "membership_id": Membership.objects.get(project=project, user=owner).id,
    }
