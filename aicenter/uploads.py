"""Uploads are capped before any byte of the body is read."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


class UploadLimitMiddleware:
    """Refuses a request body over MAX_UPLOAD_BYTES from its Content-Length.

    Django never reads past Content-Length, so checking it up front caps what
    any view can receive, without reading or storing a byte of it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_UPLOAD_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return too_large(request, limit)
        return self.get_response(request)


def too_large(request, limit: int):
    detail = f"The upload is larger than the limit of {limit:,} bytes."
    if request.path.startswith("/api/"):
        errors = [{"field": None, "message": detail}]
        return JsonResponse({"detail": detail, "errors": errors}, status=413)
    return render(request, "413.html", {"detail": detail}, status=413)
