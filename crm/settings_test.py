"""Settings for the test suite: the real settings, with the few switches tests need."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")

from crm.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
if REDIS_URL:  # noqa: F405 - CI: the real cache, one Redis database per test worker
    # cache.clear() is FLUSHDB: a key prefix would not keep one worker's clear (dashboard
    # tests) from wiping another's rate-limit counters mid-test. gw0 takes the URL's
    # database, gw1 the one below it, and so on.
    _base, _, _db = REDIS_URL.rpartition("/")  # noqa: F405
    if not _db.isdigit():  # no database in the URL ("redis://host:6379")
        _base, _db = REDIS_URL.rstrip("/"), "15"  # noqa: F405
    _worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    _db = int(_db) - _worker
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": f"{_base}/{max(_db, 0)}",
                          "KEY_PREFIX": f"test-{os.getpid()}"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOGGING = {"version": 1, "disable_existing_loggers": False}
