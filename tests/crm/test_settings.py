"""Production settings: no secret is needed to inspect the project, one is needed to serve."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "crm.settings"
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
