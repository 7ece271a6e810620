"""The answer to a login refused because the username is locked out after failed attempts."""

from django.conf import settings
from django.shortcuts import render

TOO_MANY_REQUESTS = 429


def locked_out(request, original_response=None, credentials=None):
    """django-axes calls this instead of logging in, even when the password is right."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=TOO_MANY_REQUESTS)
