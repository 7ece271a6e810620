"""Request bodies are capped before any byte of them is read.

Only the views that take uploads accept large bodies, and only from a signed-in
member who may upload there; every other request is held to MAX_REQUEST_BYTES,
so nobody can make the service read or spool a large body by posting it
anonymously (Django's CSRF check alone reads the whole form).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from aicenter.access import project_for
from aicenter.models import ApiToken, Role

# (method, URL name) of each view that takes an upload. The API names a path after the
# first operation on it: POST .../packages is the list's path.
UPLOAD_VIEWS = {
    ("POST", "packages:upload"),
    ("POST", "packages:version-upload"),
    ("POST", "datasets:upload"),
    ("POST", "datasets:upload-zip"),
    ("POST", "api:list_packages"),
    ("POST", "api:create_version"),
    ("POST", "api:upload"),
    ("PUT", "api:put_one_file"),
}


class UploadLimitMiddleware:
    """Refuses a body over its limit from its Content-Length.

    Django never reads past Content-Length, so checking it up front caps what any
    view can receive, without reading or storing a byte of it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Without a Content-Length, WSGI hands Django an empty body: the upload
            # would be stored empty instead of refused.
            return length_required(request)
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.MAX_REQUEST_BYTES and not may_upload(request):
            return too_large(request, settings.MAX_REQUEST_BYTES, uploads=False)
        if length > settings.MAX_UPLOAD_BYTES:
            return too_large(request, settings.MAX_UPLOAD_BYTES, uploads=True)
        return self.get_response(request)


def may_upload(request) -> bool:
    """Whether the request goes to an upload view, from someone who may edit its project."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    if (request.method, match.view_name) not in UPLOAD_VIEWS:
        return False
    user = token_user(request) if match.namespace == "api" else request.user
    if user is None:
        return False
    try:
        project_for(user, match.kwargs["project_id"], Role.EDITOR)
    except (Http404, PermissionDenied):
        return False
    return True


def token_user(request):
    """The API's bearer token's user, read from the headers alone; None without a valid one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return ApiToken.user_for(token.strip())


def api_error(detail: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"detail": detail, "errors": [{"field": None, "message": detail}]}, status=status
    )


def length_required(request):
    detail = _("Send the upload with a Content-Length header; chunked bodies are refused.")
    if request.path.startswith("/api/"):
        return api_error(detail, 411)
    return HttpResponse(detail, status=411, content_type="text/plain")


def too_large(request, limit: int, uploads: bool):
    if uploads:
        detail = _("The upload is larger than the limit of %(limit)s bytes.")
    else:
        detail = _(
            "The request is larger than the limit of %(limit)s bytes. Larger bodies are "
            "taken only by upload pages and endpoints, from a signed-in editor of the project."
        )
    detail %= {"limit": f"{limit:,}"}
    if request.path.startswith("/api/"):
        return api_error(detail, 413)
    return render(request, "413.html", {"detail": detail}, status=413)
