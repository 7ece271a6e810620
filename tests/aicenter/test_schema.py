"""Schemathesis sends generated requests to every operation of the OpenAPI document.

However odd the request, the API answers it without a server error.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from aicenter.models import ApiToken
from aicenter.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


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


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_makes_the_api_fail(case, furnished, token):
    # Ids of real objects, so that requests reach past the lookups into the actions.
    for name in case.path_parameters or {}:
        if name in furnished:
            case.path_parameters[name] = furnished[name]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
    )
