from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import add_never_cache_headers


class ShopLocaleMiddleware(LocaleMiddleware):
    """Vietnamese unless the user picked another language in the top bar.

    Django's LocaleMiddleware follows the browser's Accept-Language, which on most shop
    computers says English; the product's language is Vietnamese by default.
    """

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def client_ip(request) -> str:
    """The client's address behind our reverse proxy (used only when BEHIND_PROXY is on).

    The proxy appends the address it saw to X-Forwarded-For, so the right-most entry is the
    one it vouches for; entries to its left come from the client and may be forged.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.rsplit(",", 1)[-1].strip() or request.META["REMOTE_ADDR"]


# The backoffice never uses these browser features; denying them means an injected script
# or a framed page cannot ask a shop's staff for their camera, location or a payment.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "midi", "payment", "publickey-credentials-get", "serial", "usb",
))
# Pages under these prefixes carry customers' personal data (or the form that leads to
# it): no browser or shared cache may keep a copy, e.g. after logout on a shop computer.
NO_STORE_PREFIXES = ("/admin/", "/platform/", "/r/")


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: Permissions-Policy, no-store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path_info.startswith(NO_STORE_PREFIXES):
            add_never_cache_headers(response)
        return response
