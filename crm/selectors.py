"""Reads of the crm app (HackSoft: writes in services, reads here)."""

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from .models import ROLE_RANK, Membership


def staff_list(*, tenant) -> list[Membership]:
    """The shop's people: active first, then by role (owner first), then by name."""
    rank = Case(*[When(role=role, then=Value(-r)) for role, r in ROLE_RANK.items()],
                output_field=IntegerField())
    return list(Membership.objects.filter(tenant=tenant).select_related("user")
                .annotate(role_order=rank)
                .order_by("-is_active", "role_order", "user__last_name", "user__first_name",
                          "user__username"))


def staff_locked_usernames(usernames) -> set[str]:
    """Which of ``usernames`` django-axes locks out now (from at least one address)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(AccessAttempt.objects.filter(
        username__in=list(usernames), failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=since,
    ).values_list("username", flat=True))
