"""Sign-in throttling (django-axes): 5 failures lock a username on one address for 15
minutes; the owner unlocks from Nhân sự; the session lasts SESSION_COOKIE_AGE_HOURS."""

import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from crm.models import AuditLog
from tests.crm.factories import PASSWORD
from tests.crm.signin import sign_in

pytestmark = pytest.mark.django_db

LOCKED = "Đăng nhập sai quá nhiều lần"


def fail(client, username, times, **extra):
    responses = [client.post("/admin/login/", {"username": username, "password": "sai"},
                             **extra) for _ in range(times)]
    return responses[-1]


def test_settings():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_four_failures_do_not_lock(client, staff):
    response = fail(client, staff.user.username, 4)
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.content.decode()
    assert sign_in(client, staff.user.username, PASSWORD)


def test_fifth_failure_locks_with_a_vietnamese_message(client, staff, caplog):
    caplog.set_level(logging.INFO, logger="axes")
    response = fail(client, staff.user.username, 5)
    assert response.status_code == 429
    body = response.content.decode()
    assert LOCKED in body and "15 phút" in body
    assert 'name="username"' in body  # still the login page, in the shop's style
    # Locked: even the right password is refused now.
    response = client.post("/admin/login/", {"username": staff.user.username,
                                             "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("axes")]
    assert any("Locking out" in m and staff.user.username in m and "127.0.0.1" in m
               for m in logged)
    assert any("login failure" in m for m in logged)


def test_lock_is_per_username_and_address(client, staff, manager):
    fail(client, staff.user.username, 5)
    assert sign_in(client, manager.user.username, PASSWORD)  # another username
    client.logout()
    assert sign_in(client, staff.user.username, PASSWORD, REMOTE_ADDR="10.1.2.3")


def test_a_success_starts_the_count_again(client, staff):
    fail(client, staff.user.username, 4)
    assert sign_in(client, staff.user.username, PASSWORD)
    client.logout()
    assert fail(client, staff.user.username, 4).status_code == 200
    assert sign_in(client, staff.user.username, PASSWORD)


def test_lock_ends_after_the_cool_off(client, staff):
    fail(client, staff.user.username, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, staff.user.username, PASSWORD)


def test_owner_sees_the_lock_and_unlocks(client, login, owner, staff):
    fail(client, staff.user.username, 5)
    owner_client = login(owner)
    assert 'data-testid="locked"' in owner_client.get("/admin/staff/").content.decode()
    page = owner_client.get(f"/admin/staff/{staff.pk}/").content.decode()
    assert 'data-testid="locked-card"' in page
    response = owner_client.post(f"/admin/staff/{staff.pk}/unlock/")
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=staff.user.username).exists()
    assert AuditLog.objects.get(action="staff.unlock").object_id == staff.pk
    owner_client.logout()
    assert sign_in(client, staff.user.username, PASSWORD)


def test_manager_sees_the_lock_but_cannot_unlock(client, login, manager, staff):
    fail(client, staff.user.username, 5)
    manager_client = login(manager)
    page = manager_client.get(f"/admin/staff/{staff.pk}/").content.decode()
    assert 'data-testid="locked-card"' in page
    assert f"/admin/staff/{staff.pk}/unlock/" not in page
    assert manager_client.post(f"/admin/staff/{staff.pk}/unlock/").status_code == 403
    assert AccessAttempt.objects.filter(username=staff.user.username).exists()


def test_resetting_the_password_by_email_unlocks(client, staff, mailoutbox):
    import re

    staff.user.email = "nv@example.com"
    staff.user.save()
    fail(client, staff.user.username, 5)
    client.post("/admin/password-reset/", {"email": "nv@example.com"})
    path = re.search(r"http://testserver(/\S+/)", mailoutbox[0].body).group(1)
    set_url = client.get(path).url
    client.post(set_url, {"new_password1": "Mo-khoa-roi-5", "new_password2": "Mo-khoa-roi-5"})
    assert sign_in(client, staff.user.username, "Mo-khoa-roi-5")


ROOT = Path(__file__).resolve().parents[2]


def production_setting(name: str, **env) -> str:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DJANGO_SETTINGS_MODULE", "SESSION_COOKIE_AGE_HOURS")}
    environment.update(DJANGO_SETTINGS_MODULE="crm.settings", SECRET_KEY="x" * 50, **env)
    code = ("import django; django.setup(); from django.conf import settings; "
            f"print(settings.{name})")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_session_age_defaults_to_12_hours_and_follows_the_environment():
    assert production_setting("SESSION_COOKIE_AGE") == str(12 * 3600)
    assert production_setting("SESSION_COOKIE_AGE", SESSION_COOKIE_AGE_HOURS="2") == "7200"


def test_axes_logger_is_on_in_production():
    assert production_setting("LOGGING['loggers']['axes']['level']",
                              LOG_LEVEL="ERROR") == "INFO"
