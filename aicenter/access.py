"""The one way to reach a project: non-members get 404, a role too low gets 403."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from aicenter.models import Membership, Project, Role


def project_for(user, project_id: int, role: str = Role.VIEWER) -> Project:
    """The project if `user` is a member with at least `role`; 404 outside, 403 below."""
    if not user.is_authenticated:
        raise Http404(_("No such project."))
    membership = (
        Membership.objects.select_related("project")
        .filter(project_id=project_id, user=user)
        .first()
    )
    if membership is None:
        raise Http404(_("No such project."))
    if not membership.allows(role):
        raise PermissionDenied(
            _("This needs the %(role)s role in the project.") % {"role": Role(role).label.lower()}
        )
    project = membership.project
    project.current_role = membership.role
    return project
