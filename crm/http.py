"""Small HTTP helpers every app uses the same way."""

import mimetypes

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, value: str | None, default: str) -> str:
    """A "back"/"next" URL from the request, only if it stays on this site; else ``default``.

    The one check for every redirect target a user can put in a form or a link, so that no
    page of ours sends someone to another site.
    """
    if value and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return value
    return default


def serve_private_file(field_file) -> HttpResponse:
    """A stored file (an avatar) after the view has checked who may see it.

    With ``MEDIA_ACCEL_REDIRECT`` set (e.g. ``/protected-media/`` behind nginx's
    ``internal`` location) the web server sends the bytes; otherwise Django streams them.
    Either way the media folder itself is never published.
    """
    prefix = getattr(settings, "MEDIA_ACCEL_REDIRECT", "")
    if prefix:
        response = HttpResponse(content_type=mimetypes.guess_type(field_file.name)[0]
                                or "application/octet-stream")
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + field_file.name
    else:
        response = FileResponse(field_file.open("rb"))
    # Personal data: the browser may keep it for this user, shared caches may not.
    response["Cache-Control"] = "private, max-age=3600"
    return response
