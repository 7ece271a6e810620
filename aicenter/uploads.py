"""Uploads are capped before any byte of the body is read."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
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
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Without a Content-Length, WSGI hands Django an empty body: the upload
            # would be stored empty instead of refused.
            return length_required(request)
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return too_large(request, limit)
        return self.get_response(request)


def api_error(detail: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"detail": detail, "errors": [{"field": None, "message": detail}]}, status=status
    )


def length_required(request):
    detail = "Send the upload with a Content-Length header; chunked bodies are refused."
    if request.path.startswith("/api/"):
        return api_error(detail, 411)
    return HttpResponse(detail, status=411, content_type="text/plain")


def too_large(request, limit: int):
    detail = f"The upload is larger than the limit of {limit:,} bytes."
    if request.path.startswith("/api/"):
        return api_error(detail, 413)
    return render(request, "413.html", {"detail": detail}, status=413)
