import pytest

from aicenter.models import ApiToken, Project, Role
from aicenter.projects import create_project
from tests.factories import api_client


def test_api_without_a_token_answers_401_with_the_error_shape(client, project):
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}
    assert "Bearer" in response.json()["detail"]


def test_api_with_an_unknown_token_answers_401(client, project):
    response = client.get("/api/v1/projects", headers={"Authorization": "Bearer aic_nonsense"})
    assert response.status_code == 401


def test_api_with_a_revoked_token_answers_401(client, owner):
    row, token = ApiToken.issue(owner, "gone")
    row.revoke()
    response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_api_lists_only_the_callers_projects(project, outsider):
    create_project(outsider, "Outsider's own")
    response = api_client(outsider).get("/api/v1/projects")
    body = response.json()
    assert response.status_code == 200
    assert [item["name"] for item in body["items"]] == ["Outsider's own"]
    assert body["count"] == 1
    assert body["next"] is None


def test_api_creates_a_project_owned_by_the_caller(outsider):
    response = api_client(outsider).post(
        "/api/v1/projects", {"name": "Churn", "description": "x"}, content_type="application/json"
    )
    assert response.status_code == 201
    project = Project.objects.get(id=response.json()["id"])
    assert project.role_of(outsider) == Role.OWNER


def test_api_refuses_a_blank_project_name_field_by_field(outsider):
    response = api_client(outsider).post(
        "/api/v1/projects", {"name": " "}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "name", "message": "A project needs a name."}]
    assert not Project.objects.exists()


def test_api_refuses_a_malformed_body_with_the_error_shape(outsider):
    response = api_client(outsider).post(
        "/api/v1/projects", {"description": "no name"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


def test_api_refuses_a_body_it_cannot_parse_with_the_error_shape(outsider):
    response = api_client(outsider).post("/api/v1/projects", "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body", "errors": []}


def test_api_answers_404_for_a_project_of_others(project, outsider):
    response = api_client(outsider).get(f"/api/v1/projects/{project.id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


@pytest.mark.parametrize(("persona", "role"), [("viewer", "viewer"), ("owner", "owner")])
def test_api_shows_a_member_their_role(request, project, persona, role):
    user = request.getfixturevalue(persona)
    response = api_client(user).get(f"/api/v1/projects/{project.id}")
    assert response.json()["role"] == role


def test_api_list_is_paginated(outsider):
    for number in range(55):
        create_project(outsider, f"P{number:02}")
    client = api_client(outsider)
    first = client.get("/api/v1/projects").json()
    assert (len(first["items"]), first["count"]) == (50, 55)
    second = client.get(first["next"]).json()
    assert len(second["items"]) == 5
    assert second["next"] is None


@pytest.mark.parametrize("page", ["3", "0", "²", "9" * 25, "-1"])
def test_api_refuses_a_page_it_does_not_have(outsider, page):
    response = api_client(outsider).get(f"/api/v1/projects?page={page}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page"


def test_openapi_document_and_docs_are_served(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert "/api/v1/projects" in document.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200
