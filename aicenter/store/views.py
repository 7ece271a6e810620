"""The download view behind a local store's opaque /store/<token> links."""

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from aicenter.store import get_store
from aicenter.store.base import ObjectMissing
from aicenter.store.local import LocalStore, download_claim


@require_safe
def download(request: HttpRequest, token: str) -> FileResponse:
    """Serve a local store's download_url; S3 stores hand out presigned URLs instead."""
    try:
        claim = download_claim(token, settings.STORE_URL_MAX_AGE)
    except InvalidToken:  # forged, damaged or expired
        raise Http404(_("This download link is invalid or has expired.")) from None
    store = get_store()
    if not isinstance(store, LocalStore):
        raise Http404(_("This download link is not served here."))
    try:
        source = store.open_file(claim["k"])
    except (ObjectMissing, ValueError):
        raise Http404(_("The file no longer exists.")) from None
    return FileResponse(source, as_attachment=True, filename=claim["f"])
