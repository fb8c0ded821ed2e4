"""Production settings: no secret is needed to inspect the project, one is needed to serve."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL",
                        "BEHIND_PROXY")}
    env["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    env.update(extra_env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_makemigrations_check_runs_without_a_secret():
    result = run("import sys; from django.core.management import execute_from_command_line; "
                 "execute_from_command_line(['manage.py', 'makemigrations', '--check', "
                 "'--dry-run'])")
    assert result.returncode == 0, result.stderr


def test_serving_without_a_secret_is_refused():
    result = run("import django; django.setup(); from django.conf import settings; "
                 "settings.SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY setting must not be empty" in result.stderr


PROXY_SETTINGS = ("import django; django.setup(); from django.conf import settings; "
                  "print(settings.SECURE_PROXY_SSL_HEADER, settings.RATELIMIT_IP_META_KEY)")


def test_forwarded_headers_are_ignored_without_a_proxy():
    result = run(PROXY_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "None"]


def test_forwarded_headers_are_trusted_behind_the_proxy():
    result = run(PROXY_SETTINGS, BEHIND_PROXY="1")
    assert result.returncode == 0, result.stderr
    assert "('HTTP_X_FORWARDED_PROTO', 'https')" in result.stdout
    assert result.stdout.split()[-1] == "crm.middleware.client_ip"
