from django.conf import settings

from aicenter.models import Project


def projects(request) -> dict:
    """The header's project switcher lists the user's projects."""
    return {
        "site_name": settings.SITE_NAME,
        "user_projects": Project.objects.for_user(request.user).only("id", "name"),
    }
