"""System checks of this project's own configuration."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Caches that do not count across processes: with them every gunicorn worker keeps its
# own rate-limit counters (3 workers: three times the allowance), or none at all.
NOT_SHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def _can_serve() -> bool:
    """False without SECRET_KEY: Django refuses to serve a session or a signature without
    one, and commands run without it (makemigrations) count no requests."""
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:
        return False


@register(Tags.caches)
def rate_limit_cache_check(app_configs=None, **kwargs):
    """With DEBUG off the rate limits need a cache shared by every process (REDIS_URL).

    A normal check, not a deploy one: ``migrate``, which the web container runs before
    gunicorn starts, then refuses to go on (gunicorn itself runs no checks).
    """
    if settings.DEBUG or not _can_serve():
        return []
    name = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(name, {}).get("BACKEND", "")
    if backend not in NOT_SHARED_CACHES:
        return []
    return [Error(
        f"The cache {name!r} ({backend}) is not shared between processes, so rate limits "
        "would be counted per process.",
        hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0), or DEBUG=1 for development.",
        obj=name,
        id="crm.E001",
    )]
