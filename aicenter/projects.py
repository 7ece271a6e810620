"""Actions on projects and their members."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aicenter.models import Membership, Project, Role


@transaction.atomic
def create_project(user, name: str, description: str = "") -> Project:
    project = Project.objects.create(name=name, description=description, created_by=user)
    Membership.objects.create(project=project, user=user, role=Role.OWNER)
    return project


def add_member(project: Project, username: str, role: str) -> Membership:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError(
            {"username": _("There is no user named %(name)r.") % {"name": username}}
        )
    membership, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role}
    )
    if not created:
        raise ValidationError({"username": _("%(name)s is already a member.") % {"name": username}})
    return membership


@transaction.atomic
def change_role(membership: Membership, role: str) -> None:
    if membership.role == Role.OWNER and role != Role.OWNER:
        _keep_an_owner(membership)
    membership.role = role
    membership.save(update_fields=["role"])


@transaction.atomic
def remove_member(membership: Membership) -> None:
    if membership.role == Role.OWNER:
        _keep_an_owner(membership)
    membership.delete()


def _keep_an_owner(leaving: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(
        project_id=leaving.project_id, role=Role.OWNER
    )
    if not owners.exclude(id=leaving.id).exists():
        raise ValidationError({"role": _("A project needs at least one owner.")})
