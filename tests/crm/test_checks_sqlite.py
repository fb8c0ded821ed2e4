"""What a new user sees from `bin/run` on the embedded SQLite database: no warnings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_on_sqlite_prints_no_warning(tmp_path):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "crm.settings"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "W040" not in output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output
