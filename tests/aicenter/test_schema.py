"""Schemathesis sends generated requests to every operation of the OpenAPI document.

However odd the request, the API answers it without a server error, with a
status code the document declares, in the declared content type and schema.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aicenter.models import ApiToken
from aicenter.wsgi import application
from pipelines.models import Pipeline, Status
from tests.pipelines.builders import publish, run_of, store_artifacts, write_log

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
BODILESS = {"204", "302"}


@pytest.fixture(autouse=True)
def connection_kept_open():
    """As Django's test client does: a request must not close the test's transaction."""
    for signal in [request_started, request_finished]:
        signal.disconnect(close_old_connections)
    yield
    for signal in [request_started, request_finished]:
        signal.connect(close_old_connections)


@pytest.fixture
def token(owner) -> str:
    return ApiToken.issue(owner, "schemathesis")[1]


@pytest.fixture
def published(furnished) -> dict:
    """The furnished objects, with a run that published everything a run can, artifact `x`
    among them, and two runs to compare; the first run stays scheduled."""
    pipeline = Pipeline.objects.get(id=furnished["pipeline_id"])
    run = run_of(pipeline, Status.SUCCESSFUL)
    store_artifacts(run, {"x": b"1"})
    write_log(run, [("stdout", "one")])
    publish(run, score=0.5)
    return {**furnished, "run_id": run.id, "runs": [run.id, furnished["run_id"]]}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_makes_the_api_fail(case, published, token):
    # Ids of real objects, so that requests reach past the lookups into the actions.
    for name in case.path_parameters or {}:
        if name in published:
            case.path_parameters[name] = published[name]
    if "runs" in (case.query or {}):
        case.query["runs"] = published["runs"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def successes_described(operation: dict) -> dict[str, bool]:
    """Each success status of an operation, and whether the document describes its answer."""
    return {
        code: code in BODILESS
        or any("schema" in media for media in answer.get("content", {}).values())
        for code, answer in operation["responses"].items()
        if code.startswith(("2", "3"))
    }


def test_every_operation_declares_the_schema_of_its_success(client):
    document = client.get("/api/v1/openapi.json").json()
    undescribed = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if not (described := successes_described(operation)) or not all(described.values())
    ]
    assert undescribed == []
