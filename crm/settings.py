"""Settings for the Khách hàng CRM backoffice.

Everything that differs between machines comes from environment variables, with defaults
that are safe for production (DEBUG off) except where noted. The README's run command sets
DEBUG=1 and leaves DATABASE_URL and REDIS_URL unset, so the app runs on a SQLite file with
Celery tasks executed eagerly in-process.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
_DEV_SECRET = "django-insecure-dev-only-never-use-in-production"  # noqa: S105
# Without DEBUG there is no default: Django refuses an empty SECRET_KEY the first time
# something uses it (a request, a session, a signature), while commands that never do
# (makemigrations, migrate, collectstatic) run without one.
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_filters",
    "django_htmx",
    "import_export",
    "django_ratelimit",
    "csp",
    # {% partialdef %}: the table cells (crm/tables.py). The loaders are set below.
    "template_partials.apps.SimpleAppConfig",
    "crm",
    "customers",
    "orders",
    "groups",
    "loyalty",
    "imports",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "crm.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm.middleware.ShopLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.tenancy.TenantMiddleware",
    # Last: turns django-axes' lock-out into the login page's lock-out message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
# Widget templates may live in templates/ (e.g. the other-phones rows widget).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # "template.html#partial" names a {% partialdef %} of a template (table cells);
            # templates are compiled once per process (Django's cached loader, reloaded on
            # change under runserver).
            "loaders": [("template_partials.loader.Loader", [
                ("django.template.loaders.cached.Loader", [
                    "django.template.loaders.filesystem.Loader",
                    "django.template.loaders.app_directories.Loader",
                ]),
            ])],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.backoffice",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while an eager Celery task writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "crm:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes): 5 failures for one username from one address lock that
# pair for 15 minutes; an owner unlocks a person from Nhân sự. Failures and lock-outs are
# logged by the "axes" logger (LOGGING below) and stored in axes' AccessAttempt table.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked pair before the password
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # four typos, then the right password: the count starts again
AXES_LOCKOUT_CALLABLE = "crm.auth_views.lockout_response"
# Log lines name the username and the address (axes masks them by default): the operator
# needs both to see who is targeted and to block an address (fail2ban reads the log).
AXES_SENSITIVE_PARAMETERS = []
# Behind our reverse proxy the client's address is the one it appended (see BEHIND_PROXY).
AXES_CLIENT_IP_CALLABLE = ("crm.middleware.client_ip"
                           if env.bool("BEHIND_PROXY", default=False) else None)
# A set-password link (forgot password, a new staff member, create_shop) works once, for
# 3 days.
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["crm.formats"]
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Excel / CSV import (imports app): refused above these, with a message and nothing written.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_MB", default=20) * 1024 * 1024
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
# An xlsx is a zip: its entries may expand to at most this (from the zip directory, before
# anything is inflated), and each entry at most IMPORT_MAX_ZIP_RATIO times its packed size.
IMPORT_MAX_UNZIPPED_BYTES = env.int("IMPORT_MAX_UNZIPPED_MB", default=400) * 1024 * 1024
IMPORT_MAX_ZIP_RATIO = env.int("IMPORT_MAX_ZIP_RATIO", default=200)
IMPORT_MAX_CELL_CHARS = 2000  # a longer cell refuses its row
# Processes that read a large file's rows into records (imports.parallel): 2 where the
# machine has two cores or more, 1 to keep the work in the worker's own process.
IMPORT_PROCESSES = env.int("IMPORT_PROCESSES", default=min(2, os.cpu_count() or 1))
# Uploaded files and error workbooks are deleted after this many days (the history stays).
IMPORT_RETENTION_DAYS = env.int("IMPORT_RETENTION_DAYS", default=30)
# Exports up to this many rows stream from the request; larger ones run in Celery.
EXPORT_STREAM_MAX_ROWS = env.int("EXPORT_STREAM_MAX_ROWS", default=5000)

REDIS_URL = env.str("REDIS_URL", default="")
# django-ratelimit lists only third-party Redis backends as "officially supported";
# Django's own RedisCache has the atomic incr it needs (W001 is that notice).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # orders.Order's order_stats_idx is a covering index (INCLUDE) for the PostgreSQL
    # recompute. SQLite, the embedded default of `bin/run`, builds it on the key columns
    # alone, which is all it needs, and would warn (models.W040) on every migrate and
    # runserver. A model Meta cannot depend on the database (migrations would differ), so
    # the notice is silenced here, for SQLite only; on PostgreSQL the check stays on.
    SILENCED_SYSTEM_CHECKS += ["models.W040"]
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # One dev process (runserver) shares its local-memory cache with itself. With DEBUG
    # off, rate limits must count across gunicorn workers: django_ratelimit.E003 and
    # crm.E001 stop migrate/runserver/check until REDIS_URL is set. A command run without
    # SECRET_KEY (makemigrations) serves nothing: it is let through.
    if DEBUG or not SECRET_KEY:
        SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003"]
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Celery: with no broker configured, tasks run in-process so a fresh install needs nothing.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Nightly jobs (Vietnam time): aggregates first, then the lifecycle rules that read them,
# then the groups' members.
CELERY_BEAT_SCHEDULE = {
    "aggregates-nightly": {"task": "orders.aggregates_recompute_all",
                           "schedule": crontab(hour=2, minute=0)},
    "lifecycle-nightly": {"task": "orders.lifecycle_recompute_all",
                          "schedule": crontab(hour=3, minute=0)},
    # Groups by conditions read the figures and the stages computed above.
    "groups-nightly": {"task": "groups.groups_recompute_nightly",
                       "schedule": crontab(hour=3, minute=30)},
    # Loyalty: points past their expiry go, tiers by spend follow the sliding 12 months,
    # then every account is checked against its ledger (reported, never fixed silently).
    "loyalty-nightly": {"task": "loyalty.loyalty_nightly",
                        "schedule": crontab(hour=4, minute=0)},
    # Uploaded import files and export files past their retention.
    "imports-purge": {"task": "imports.files_purge", "schedule": crontab(hour=4, minute=30)},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")

# Security: production defaults, relaxed only when DEBUG is on.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# X-Forwarded-Proto and X-Forwarded-For are only believed when our own reverse proxy (the
# one that terminates TLS and overwrites them) stands in front: otherwise any client could
# claim https or another address. BEHIND_PROXY=1 says it does (docker-compose sets it).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Rate limits per address count the client's address, not the proxy's.
RATELIMIT_IP_META_KEY = "crm.middleware.client_ip" if BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own static files, so an
# injected <script> or on*= attribute does not run. Every handler lives in static/js and
# htmx runs with allowEval off (base.html's htmx-config), so no 'unsafe-eval' either.
# Styles keep 'unsafe-inline': templates colour tags and statuses with style="" attributes
# from shop data, and Tabler/Tom Select set inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        # Tabler's CSS draws checkboxes and select arrows as data: SVGs; the favicon is data:.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
CSRF_FAILURE_VIEW = "crm.views.csrf_failure"
# Signed-in sessions end after this many hours (one working day by default).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE_HOURS", default=12) * 60 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Sign-in failures and lock-outs stay in the log whatever LOG_LEVEL says.
    "loggers": {"axes": {"level": "INFO"}},
}
FILTERS_EMPTY_CHOICE_LABEL = _("All")
