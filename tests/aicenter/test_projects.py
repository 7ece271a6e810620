import pytest
from django.urls import reverse

from aicenter.models import Membership, Project, Role
from tests.factories import logged_in_client, make_user


def test_creating_a_project_makes_the_creator_its_owner(owner, owner_client):
    response = owner_client.post(
        reverse("project-create"), {"name": "Forecasts", "description": "Demand"}
    )
    project = Project.objects.get(name="Forecasts")
    assert response.status_code == 302
    assert project.role_of(owner) == Role.OWNER


def test_project_form_refuses_a_blank_name(owner_client):
    response = owner_client.post(reverse("project-create"), {"name": "   "})
    assert response.status_code == 200
    assert "A project needs a name." in response.text
    assert not Project.objects.exists()


def test_home_lists_only_the_users_projects(project, outsider, owner_client):
    make_user("someone")
    other = Project.objects.create(name="Secret")
    response = owner_client.get(reverse("home"))
    assert project.name in response.text
    assert other.name not in response.text


def test_switcher_lists_projects_on_every_page(project, viewer_client):
    response = viewer_client.get(reverse("datasets:list", args=[project.id]))
    assert response.status_code == 200
    assert 'data-testid="project-switcher"' in response.text
    assert reverse("project", args=[project.id]) in response.text


def test_project_page_opens_its_packages(project, viewer_client):
    response = viewer_client.get(reverse("project", args=[project.id]))
    assert response.status_code == 302
    assert response.url == reverse("packages:list", args=[project.id])


def test_anonymous_visitor_is_sent_to_log_in(project, client):
    response = client.get(reverse("members", args=[project.id]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_owner_adds_a_member_with_a_role(project, owner_client, outsider):
    url = reverse("member-add", args=[project.id])
    response = owner_client.post(url, {"username": outsider.username, "role": "editor"})
    assert response.status_code == 302
    assert project.role_of(outsider) == Role.EDITOR


def test_adding_an_unknown_user_says_so(project, owner_client):
    url = reverse("member-add", args=[project.id])
    response = owner_client.post(url, {"username": "nobody", "role": "viewer"})
    assert response.status_code == 400
    assert "There is no user named" in response.text


@pytest.mark.parametrize("persona", ["editor", "viewer"])
def test_only_an_owner_manages_members(request, project, outsider, persona):
    client = logged_in_client(request.getfixturevalue(persona))
    url = reverse("member-add", args=[project.id])
    response = client.post(url, {"username": outsider.username, "role": "owner"})
    assert response.status_code == 403
    assert project.role_of(outsider) is None


def test_owner_changes_a_role(project, owner_client, viewer):
    membership = Membership.objects.get(project=project, user=viewer)
    url = reverse("member-role", args=[project.id, membership.id])
    owner_client.post(url, {"role": "editor"})
    assert project.role_of(viewer) == Role.EDITOR


def test_the_last_owner_cannot_leave_or_step_down(project, owner, owner_client):
    membership = Membership.objects.get(project=project, user=owner)
    owner_client.post(reverse("member-role", args=[project.id, membership.id]), {"role": "viewer"})
    response = owner_client.post(
        reverse("member-remove", args=[project.id, membership.id]), follow=True
    )
    assert "A project needs at least one owner." in response.text
    assert project.role_of(owner) == Role.OWNER


def test_owner_removes_a_member(project, owner_client, viewer):
    membership = Membership.objects.get(project=project, user=viewer)
    owner_client.post(reverse("member-remove", args=[project.id, membership.id]))
    assert project.role_of(viewer) is None


def test_membership_of_another_project_cannot_be_reached(project, owner, owner_client, outsider):
    foreign = Project.objects.create(name="Elsewhere")
    membership = Membership.objects.create(project=foreign, user=outsider, role=Role.OWNER)
    response = owner_client.post(reverse("member-remove", args=[project.id, membership.id]))
    assert response.status_code == 404
    assert Membership.objects.filter(id=membership.id).exists()
