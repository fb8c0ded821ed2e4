"""403, 404, 500 and CSRF failure pages: the shop's language and look, never Django's bare pages.

pytest-django runs with DEBUG off, as production does. This module doubles as the URLconf of
the tests that need a view raising an error: the real patterns and handlers plus two views.
"""

import logging
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path
from django.utils.translation import gettext, override

from crm import urls as crm_urls
from crm.views import server_error

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("broken on purpose")


def _forbidden(request):
    raise PermissionDenied


urlpatterns = [path("boom/", _boom), path("forbidden/", _forbidden), *crm_urls.urlpatterns]
handler500 = crm_urls.handler500


def vietnamese(message: str) -> str:
    """The text a Vietnamese page shows for ``message`` (the catalogue is the source)."""
    with override("vi"):
        return gettext(message)


def assert_shop_page(response, status: int, message: str) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert '<html lang="vi">' in body
    assert vietnamese(message) in body
    assert 'data-testid="error-page"' in body
    assert "tabler.min.css" in body
    return body


@pytest.mark.urls(__name__)
def test_permission_denied_is_the_shop_403_page_in_the_layout(login, staff):
    body = assert_shop_page(login(staff).get("/forbidden/"), 403, "You cannot open this page")
    assert staff.tenant.name in body  # the backoffice layout (top bar) around it


@pytest.mark.urls(__name__)
def test_permission_denied_without_a_shop_uses_the_plain_layout(client):
    body = assert_shop_page(client.get("/forbidden/"), 403, "You cannot open this page")
    assert "navbar-vertical" not in body


def test_unknown_url_is_the_shop_404_page(client):
    assert_shop_page(client.get("/admin/no-such-page/"), 404, "Page not found")


def test_unknown_url_for_a_member_is_inside_the_layout(login, manager):
    body = assert_shop_page(login(manager).get("/admin/no-such-page/"), 404, "Page not found")
    assert "navbar-vertical" in body


@pytest.mark.urls(__name__)
def test_server_error_shows_the_id_the_log_carries(client, caplog):
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom/")
    body = assert_shop_page(response, 500, "Something went wrong on our side")
    [record] = [r for r in caplog.records if r.name == "crm.views"]
    assert re.fullmatch(r"[0-9a-f]{8}", record.error_id)
    assert f'data-testid="error-id">{record.error_id}<' in body
    assert record.error_id in record.getMessage()
    assert record.exc_info[0] is RuntimeError
    # One traceback per error: django.request does not log it again without the id.
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_server_error_page_needs_no_database_and_no_script(rf, django_assert_num_queries):
    request = rf.get("/admin/customers/")
    with django_assert_num_queries(0):
        try:
            raise RuntimeError("database is down")
        except RuntimeError:
            response = server_error(request)
    body = response.content.decode()
    assert response.status_code == 500
    assert "<script" not in body


def test_csrf_failure_is_a_shop_page(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    body = assert_shop_page(response, 403, "The form has expired")
    assert 'href="/admin/login/"' in body
    assert "CSRF verification failed" not in body
