from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
