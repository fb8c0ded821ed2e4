"""Customer groups (fixed lists and groups by conditions), their materialized membership
with its join/leave history and recompute runs, and the list's saved filters.

A group's conditions are a rule document compiled by ``customers.rules`` through the
customer field registry; membership of a group by conditions is the rule's customers plus
the group's always-include list minus its always-exclude list, recomputed as a set-based
diff (``groups.services.recompute``). Groups are never deleted: archived and restorable.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from crm.models import TenantOwned, TenantOwnedDetail


class GroupKind(models.TextChoices):
    FIXED = "fixed", _("Fixed list")
    RULE = "rule", _("By conditions")


class RecomputeState(models.TextChoices):
    IDLE = "", _("Up to date")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Recomputing")
    FAILED = "failed", _("Failed")


class CustomerGroup(TenantOwned):
    name = models.CharField(_("group name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=GroupKind.choices,
                            default=GroupKind.RULE)
    # customers.rules document: {"conditions": [{"field", "op", "value"} | {"any": [...]}]}
    rule = models.JSONField(_("conditions"), default=dict, blank=True)
    # Bumped by every edit of the rule or the lists: a recompute records the version it
    # computed, so the page knows whether the members shown follow the latest rule.
    version = models.PositiveIntegerField(default=1)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    recompute_state = models.CharField(max_length=10, choices=RecomputeState.choices,
                                       default=RecomputeState.IDLE, blank=True)
    recomputed_at = models.DateTimeField(_("last recompute"), null=True, blank=True)
    recomputed_version = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="group_unique_name"),
        ]
        indexes = [models.Index(fields=["tenant", "archived_at", "name"],
                                name="group_list_idx")]

    def __str__(self):
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def has_rule(self) -> bool:
        return self.kind == GroupKind.RULE


class GroupMember(TenantOwnedDetail):
    """A customer in a group now (materialized; the recompute's diff keeps it)."""

    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="group_memberships")
    joined_at = models.DateTimeField(_("joined at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "customer"], name="groupmember_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "customer"], name="groupmember_customer_idx")]

    def __str__(self):
        return f"{self.group_id}:{self.customer_id}"


class PinMode(models.TextChoices):
    INCLUDE = "include", _("Always include")
    EXCLUDE = "exclude", _("Always exclude")


class GroupPin(TenantOwned):
    """A customer put in a group by hand: the members of a fixed list, or the always-include
    and always-exclude lists of a group by conditions."""

    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="pins")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="group_pins")
    mode = models.CharField(max_length=10, choices=PinMode.choices, default=PinMode.INCLUDE)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "customer"], name="grouppin_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "customer"], name="grouppin_customer_idx")]

    def __str__(self):
        return f"{self.group_id}:{self.customer_id} {self.mode}"


class GroupRun(TenantOwned):
    """One recompute of one group: what changed and how long it took."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        EDIT = "edit", _("Group edited")
        MANUAL = "manual", _("Recompute button")
        NIGHTLY = "nightly", _("Nightly")
        IMPORT = "import", _("After an import")
        STATS = "stats", _("After the order figures were recomputed")

    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    version = models.PositiveIntegerField(default=0)
    joined = models.PositiveIntegerField(_("joined"), default=0)
    left = models.PositiveIntegerField(_("left"), default=0)
    total = models.PositiveIntegerField(_("members"), default=0)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "group", "-started_at"],
                                name="grouprun_group_idx")]

    def __str__(self):
        return f"{self.group_id} {self.started_at:%Y-%m-%d %H:%M} {self.state}"


class GroupEvent(TenantOwnedDetail):
    """A customer joined or left a group (kept after the group membership is gone).

    A line of history, written by the recompute only, in the transaction that holds its
    group (locked) and its run: the database checks its customer, not its group nor its
    run (a lookup each per row at the commit of a first fill of 40,000 members). Deleting
    a group still deletes its events, and deleting a run empties theirs (Django's
    on_delete)."""

    group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="events",
                              db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="group_events")
    joined = models.BooleanField()  # False: left
    at = models.DateTimeField()
    run = models.ForeignKey(GroupRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", db_constraint=False)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "customer", "-at"], name="groupevent_customer_idx"),
            models.Index(fields=["tenant", "group", "-at"], name="groupevent_group_idx"),
        ]

    def __str__(self):
        return f"{self.group_id}:{self.customer_id} {'+' if self.joined else '-'}"


class SavedFilter(TenantOwned):
    """A named state of the customer list (search, filters, sort, columns): private to its
    owner or shared with the shop. The built-in filters every shop has are not rows
    (groups.saved_filters.BUILT_IN): they follow the shop's channels and the language."""

    name = models.CharField(_("filter name"), max_length=80)
    owner = models.ForeignKey("crm.Membership", on_delete=models.CASCADE,
                              related_name="saved_filters")
    shared = models.BooleanField(_("shared with the shop"), default=False)
    query = models.TextField(_("list state"), blank=True)  # the list's query string
    columns = models.JSONField(default=list, blank=True)  # column keys, [] = the user's own
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        indexes = [models.Index(fields=["tenant", "shared", "name"], name="savedfilter_idx")]

    def __str__(self):
        return self.name
