"""Small builders for test objects."""

from django.contrib.auth import get_user_model
from django.test import Client

from aicenter.models import ApiToken, Membership, Project, Role
from aicenter.projects import create_project

PASSWORD = "correct horse battery staple"


def make_user(username: str, **fields):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)


def make_project(owner, name: str = "Vision", **members_by_role) -> Project:
    project = create_project(owner, name, "A project for tests.")
    for role, user in members_by_role.items():
        Membership.objects.create(project=project, user=user, role=Role(role))
    return project


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user) -> Client:
    _, token = ApiToken.issue(user, "tests")
    return Client(headers={"Authorization": f"Bearer {token}"})
