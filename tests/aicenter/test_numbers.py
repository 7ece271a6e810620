"""Numbers in addresses and forms: only ASCII digits an id can hold are read as a number."""

import pytest

from aicenter.validators import whole_number
from tests.pipelines.builders import example_version


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("42", 42), ("9" * 18, int("9" * 18)), ("²", None), ("٣", None)]
    + [("9" * 19, None), ("", None), ("-1", None), (" 1", None), ("1.0", None)],
)
def test_a_whole_number_is_ascii_digits_that_fit_an_id(text, number):
    assert whole_number(text) == number


@pytest.mark.parametrize("odd", ["²", "9" * 25, "٣"])
def test_odd_numbers_in_addresses_are_refused_or_ignored_not_failed(
    viewer_client, project, owner, odd
):
    package = example_version(project, owner).package
    pipelines = viewer_client.get(f"/projects/{project.id}/pipelines/?package={odd}")
    assert pipelines.status_code == 200
    version = viewer_client.get(f"/projects/{project.id}/packages/{package.id}/versions/{odd}.0/")
    assert version.status_code == 404
