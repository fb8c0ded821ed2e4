"""Security headers on every response, and forwarded headers believed only behind our proxy."""

import pytest
from django.test import RequestFactory, override_settings

from crm.middleware import client_ip

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in
            (part.split() for part in header.split(";") if part.strip())}


def test_login_page_headers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    csp = csp_directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/admin/", "/admin/customers/", "/admin/orders/",
                                  "/admin/settings/"])
def test_backoffice_pages_have_csp_and_are_never_stored(login, manager, path):
    response = login(manager).get(path)
    assert response.status_code == 200
    header = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp_directives(response)["script-src"]
    assert "unsafe-eval" not in header
    assert "no-store" in response.headers["Cache-Control"]
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_no_store_is_only_added_to_personal_data_pages(client):
    response = client.get("/")  # the redirect to /admin/
    assert response.status_code == 302
    assert "Cache-Control" not in response.headers
    assert "Permissions-Policy" in response.headers


def test_backoffice_templates_load_no_inline_script(login, manager):
    body = login(manager).get("/admin/").content.decode()
    assert body.count("<script") == body.count("<script src=")
    assert ' onchange="' not in body and ' onclick="' not in body
    assert '"allowEval": false' in body


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=None)
def test_forged_forwarded_proto_is_ignored_without_a_proxy(client):
    response = client.get("/admin/login/", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@override_settings(SECURE_SSL_REDIRECT=True,
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_forwarded_proto_is_believed_behind_the_proxy(client):
    assert client.get("/admin/login/", headers={"x-forwarded-proto": "https"}).status_code == 200
    assert client.get("/admin/login/").status_code == 301


def test_client_ip_is_the_address_the_proxy_appended():
    rf = RequestFactory()
    forged = rf.get("/", headers={"x-forwarded-for": "1.2.3.4, 203.0.113.7"},
                    REMOTE_ADDR="172.18.0.5")
    assert client_ip(forged) == "203.0.113.7"
    assert client_ip(rf.get("/", headers={"x-forwarded-for": "203.0.113.7"})) == "203.0.113.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="172.18.0.5")) == "172.18.0.5"


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
