"""Every backoffice URL, requested by a user of another shop, shows nothing of shop A.

The sweep walks the URL configuration, so a new backoffice URL is covered automatically:
it fails until it is listed in SWEEP with how to build its arguments from shop A's data.
URLs with arguments must answer 404 (405 for a method the URL does not take); URLs
without arguments must not show any of shop A's marker strings.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.sweep_world import SWEEP, build_world

pytestmark = pytest.mark.django_db

# Signing in and the forgotten-password pages come before any shop: nothing to sweep.
PUBLIC = {"login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
          "password_reset_complete"}


def walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", prefix + str(p.pattern)


def _text_of(response) -> str:
    """What a person reads in the response: the page, or the cells of a workbook."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # an .xlsx: its sheets' text
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return " ".join(book.read(name).decode() for name in book.namelist()
                            if name.endswith(".xml"))
    return content.decode("utf-8-sig")


def backoffice_urls():
    return sorted(
        {(name, route) for name, route in walk(get_resolver().url_patterns)
         if route.startswith("admin/") and name not in PUBLIC}
    )


def test_every_backoffice_url_is_in_the_sweep():
    missing = [name for name, _ in backoffice_urls() if name not in SWEEP]
    assert missing == [], f"add these URL names to tests/sweep_world.py SWEEP: {missing}"


@pytest.mark.parametrize(("name", "route"), backoffice_urls())
def test_other_shop_user_sees_nothing(client, name, route):
    from django.urls import reverse

    world = build_world()
    client.force_login(world.intruder.user)
    kwargs_of = SWEEP[name]
    if kwargs_of is None:
        url = reverse(name)
        for response in (client.get(url), client.get(url, HTTP_HX_REQUEST="true")):
            assert response.status_code in (200, 302, 403, 404, 405), url
            body = _text_of(response)
            for marker in world.markers:
                assert marker not in body, f"{url} shows {marker!r} of another shop"
    else:
        url = reverse(name, kwargs=kwargs_of(world))
        # 405 for a method the URL does not take reveals nothing; the other must be a 404.
        codes = {client.get(url).status_code, client.post(url, {}).status_code}
        assert codes <= {404, 405} and 404 in codes, (url, codes)
