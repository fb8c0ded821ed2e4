"""Security headers on every response, and forwarded headers believed only behind our proxy."""

import pytest
from django.test import RequestFactory, override_settings

from crm.middleware import client_ip

pytestmark = pytest.mark.django_db


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
