"""docker-compose.yml and the Dockerfile, read as files (no Docker engine in CI).

What they promise: HTTPS through a proxy, one image for every app process, migrations
before anything serves or works, a healthy web before the proxy, no root, no superuser.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_a_proxy_terminates_tls_in_front_of_web(services):
    proxy = services["caddy"]
    assert proxy["image"].startswith("caddy:")
    assert "443:443" in proxy["ports"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    caddyfile = (ROOT / "docker" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "tls {$CADDY_TLS:internal}" in caddyfile
    assert "ports" not in services["web"]  # gunicorn is reached through the proxy only


def test_web_trusts_the_proxy_and_has_a_healthcheck(services):
    web = services["web"]
    assert web["environment"]["BEHIND_PROXY"] == "1"
    assert web["healthcheck"]["test"] == ["CMD", "python", "docker/healthcheck.py"]
    assert (ROOT / "docker" / "healthcheck.py").exists()


def test_one_image_built_once(services):
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {"khachhang-crm:latest"}
    assert [name for name, s in services.items() if "build" in s] == ["web"]


def test_workers_start_after_the_migrations(services):
    assert services["migrate"]["command"] == "python manage.py migrate --noinput"
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert "migrate" not in services[name]["command"]


def test_app_uses_redis_and_a_role_that_is_not_the_superuser(services):
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        user = urlsplit(env["DATABASE_URL"]).username
        assert user == "crm"
    postgres = services["postgres"]
    assert "POSTGRES_USER" not in postgres["environment"]  # the superuser stays "postgres"
    assert "./docker/postgres:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    init = (ROOT / "docker" / "postgres" / "10-crm-role.sh").read_text()
    assert re.search(r"CREATE ROLE crm LOGIN PASSWORD .* NOSUPERUSER", init)
    assert "CREATE DATABASE crm OWNER crm" in init


def test_the_image_runs_as_a_user_that_is_not_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_secrets_stay_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored
