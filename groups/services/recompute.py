"""Membership of a group, recomputed as a set-based diff in SQL.

The members a group should have (its *target*) are, for a group by conditions, the shop's
customers matching its rule (``customers.rules.rule_target``) plus its always-include
pins minus its always-exclude pins; for a fixed list, its include pins. A recompute
compares the target with the materialized ``GroupMember`` rows in the database and writes
only the difference: the joiners are inserted, the leavers deleted, and each of them gets
a ``GroupEvent`` (joined / left) pointing at the run. No customer row ever reaches Python:
at a million customers a loop costs tens of seconds where the diff costs well under one
(bench/groups_bench.py).

On PostgreSQL the diff is one statement with data-modifying CTEs (the target is computed
once, ``MATERIALIZED``); elsewhere (SQLite, the embedded default) it is four plain
statements in the same transaction.

Two runs of one group never overlap: a run holds the group row's lock
(``select_for_update``) from before it reads the rule until it commits. A second run waits,
then sees the first one's members and writes no member and no event (it still records its
own ``GroupRun``, with 0 joined and 0 left). Anything else that updates the group row —
saving an edit, queuing another run — waits for a running recompute too, which at a
million customers is about a second.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import access
from crm.access import SYSTEM
from crm.tenancy import ensure_same_tenant

from ..models import (
    CustomerGroup,
    GroupEvent,
    GroupKind,
    GroupMember,
    GroupPin,
    GroupRun,
    PinMode,
    RecomputeState,
)

logger = logging.getLogger(__name__)

TABLES = {"members": GroupMember._meta.db_table, "events": GroupEvent._meta.db_table,
          "pins": GroupPin._meta.db_table}
ANALYZE_AFTER_CHANGES = 10_000
RULE_TARGET = "SELECT r.id FROM ({rule}) r"
PINS_TARGET = ("SELECT p.customer_id AS id FROM {pins} p "
               "WHERE p.tenant_id = %s AND p.group_id = %s AND p.mode = %s")


@dataclass(frozen=True)
class Diff:
    joined: int
    left: int
    total: int  # members after the diff


# --- the target set ------------------------------------------------------------------------

def _rule_sql(tenant, group) -> tuple[str, list] | None:
    """SELECT of the ids of the customers matching the group's rule, or None when the rule
    matches nobody (an empty rule; a condition the compiler knows to be empty)."""
    from customers.rules import rule_target

    # Tenant first, from the narrowest table the rule reads (customers.rules.rule_target),
    # so the indexes that begin with tenant_id serve the rule's conditions.
    queryset = rule_target(tenant, group.rule)
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return RULE_TARGET.format(rule=sql), list(params)


def _pins_sql(tenant, group, mode: str) -> tuple[str, list]:
    return PINS_TARGET.format(**TABLES), [tenant.pk, group.pk, mode]


def target_sql(tenant, group) -> tuple[str, list]:
    """(sql, params) of one SELECT returning the ids (column ``id``) of the customers who
    should be members of ``group`` now; raises ValidationError when the rule is invalid.

    Pins are read only when the group has some (one small query), so a group without pins
    is the rule's query alone, with no UNION to de-duplicate a large result."""
    modes = set(GroupPin.objects.filter(tenant=tenant, group=group)
                .values_list("mode", flat=True).distinct())
    parts: list[tuple[str, list]] = []
    if group.kind == GroupKind.RULE:
        rule = _rule_sql(tenant, group)
        if rule is not None:
            parts.append(rule)
    if PinMode.INCLUDE in modes or not parts:
        # With neither a rule nor include pins this selects nothing: still a valid SELECT.
        parts.append(_pins_sql(tenant, group, PinMode.INCLUDE))
    sql = " UNION ".join(part for part, _params in parts)
    params = [p for _part, part_params in parts for p in part_params]
    if group.kind == GroupKind.RULE and PinMode.EXCLUDE in modes:
        exclude, exclude_params = _pins_sql(tenant, group, PinMode.EXCLUDE)
        sql = " EXCEPT ".join([sql, exclude])
        params += exclude_params
    return sql, params


# --- the diff -----------------------------------------------------------------------------

# {target}: target_sql(). One pass compares the target with the members (a full join: a
# customer on one side only joins or leaves) and keeps only the difference, as two arrays,
# and the target's size; the target is never materialized and each side is hashed once.
# Every sub-statement sees the same snapshot, taken after the group lock.
# run_id is cast: a NULL parameter has no type inside a UNION.
DIFF_POSTGRESQL = """
WITH diff AS MATERIALIZED (
    SELECT count(t.id) AS total,
           coalesce(array_agg(t.id) FILTER (WHERE m.customer_id IS NULL), '{{}}') AS joiners,
           coalesce(array_agg(m.customer_id) FILTER (WHERE t.id IS NULL), '{{}}') AS leavers
    FROM ({target}) t
    FULL JOIN (SELECT customer_id FROM {members} WHERE tenant_id = %s AND group_id = %s) m
      ON m.customer_id = t.id
),
gone AS (
    DELETE FROM {members} m USING diff, unnest(diff.leavers) AS l(id)
    WHERE m.tenant_id = %s AND m.group_id = %s AND m.customer_id = l.id
    RETURNING m.customer_id
),
new AS (
    INSERT INTO {members} (tenant_id, group_id, customer_id, joined_at)
    SELECT %s, %s, j.id, %s FROM diff, unnest(diff.joiners) AS j(id)
    ON CONFLICT (group_id, customer_id) DO NOTHING
    RETURNING customer_id
),
events AS (
    INSERT INTO {events} (tenant_id, group_id, customer_id, joined, at, run_id)
    SELECT %s, %s, customer_id, TRUE, %s, %s::bigint FROM new
    UNION ALL
    SELECT %s, %s, customer_id, FALSE, %s, %s::bigint FROM gone
    RETURNING joined
)
SELECT count(*) FILTER (WHERE joined), count(*) FILTER (WHERE NOT joined),
       (SELECT total FROM diff)
FROM events
"""
# For the diff statement only: its two hashes of up to a million ids fit in memory (the
# default 4 MB spills them to disk in batches), and compiling it (JIT) costs more than it
# saves. The caller's values are put back right after.
DIFF_SETTINGS = {"work_mem": "64MB", "jit": "off"}


# The same diff as plain statements, for SQLite (no data-modifying CTEs): the caller's
# transaction makes the four one change; the events are written before the member rows
# they describe change, from the same conditions.
LEAVING = ("FROM {members} m WHERE m.tenant_id = %s AND m.group_id = %s "
           "AND m.customer_id NOT IN ({target})")
JOINING = ("FROM ({target}) t WHERE t.id NOT IN "
           "(SELECT m.customer_id FROM {members} m WHERE m.group_id = %s)")
EVENTS_INSERT = ("INSERT INTO {events} (tenant_id, group_id, customer_id, joined, at, run_id) "
                 "SELECT %s, %s, {column}, %s, %s, %s {rows}")
MEMBERS_DELETE = "DELETE FROM {members} WHERE id IN (SELECT m.id {rows})"
MEMBERS_INSERT = ("INSERT INTO {members} (tenant_id, group_id, customer_id, joined_at) "
                  "SELECT %s, %s, t.id, %s {rows}")


def diff_statement(tenant, group, target: str, params: list, now, run_id) -> tuple[str, list]:
    """(sql, params) of the PostgreSQL diff (bench/groups_bench.py explains it)."""
    t, g = tenant.pk, group.pk
    return (DIFF_POSTGRESQL.format(target=target, **TABLES),
            [*params, t, g, t, g, t, g, now, t, g, now, run_id, t, g, now, run_id])


def _diff_postgresql(tenant, group, target: str, params: list, now, run_id) -> Diff:
    names = list(DIFF_SETTINGS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        before = cursor.fetchone()
        _set_local(cursor, DIFF_SETTINGS)
        cursor.execute(*diff_statement(tenant, group, target, params, now, run_id))
        joined, left, total = cursor.fetchone()
        _set_local(cursor, dict(zip(names, before, strict=True)))
    return Diff(joined, left, total)


def _set_local(cursor, settings: dict) -> None:
    """SET LOCAL for this transaction, in one statement."""
    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))
    cursor.execute("SELECT " + calls, [v for pair in settings.items() for v in pair])


def _diff_portable(tenant, group, target: str, params: list, now, run_id) -> Diff:
    t, g = tenant.pk, group.pk
    leaving = LEAVING.format(target=target, **TABLES)
    joining = JOINING.format(target=target, **TABLES)
    with connection.cursor() as cursor:
        cursor.execute(EVENTS_INSERT.format(column="m.customer_id", rows=leaving, **TABLES),
                       [t, g, False, now, run_id, t, g, *params])
        cursor.execute(MEMBERS_DELETE.format(rows=leaving, **TABLES), [t, g, *params])
        left = cursor.rowcount
        cursor.execute(EVENTS_INSERT.format(column="t.id", rows=joining, **TABLES),
                       [t, g, True, now, run_id, *params, g])
        cursor.execute(MEMBERS_INSERT.format(rows=joining, **TABLES), [t, g, now, *params, g])
        joined = cursor.rowcount
    total = GroupMember.objects.filter(tenant=tenant, group=group).count()
    return Diff(joined, left, total)


def apply_diff(tenant, group: CustomerGroup, run: GroupRun | None = None) -> Diff:
    """Bring ``group``'s members to its target set now; returns what changed.

    Call it inside a transaction that holds the group row's lock
    (``CustomerGroup.objects.select_for_update()``), after the rule and pins are saved:
    ``group_recompute`` does, and an edit of a fixed list can, to show its new members at
    once. Events point at ``run`` (None: an edit that is not a run). Updates the group's
    ``member_count``; nothing else of the group."""
    if not connection.in_atomic_block:
        raise RuntimeError("apply_diff runs inside the transaction that locks the group")
    ensure_same_tenant(tenant, group=group)
    target, params = target_sql(tenant, group)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    run_id = run.pk if run is not None else None
    differ = _diff_postgresql if connection.vendor == "postgresql" else _diff_portable
    diff = differ(tenant, group, target, params, now, run_id)
    CustomerGroup.objects.filter(pk=group.pk).update(member_count=diff.total)
    group.member_count = diff.total
    return diff


# --- services ------------------------------------------------------------------------------

def _check_group(tenant, group) -> None:
    ensure_same_tenant(tenant, group=group)
    if group.is_archived:
        raise ValidationError(_("This group is archived."), code="archived")


def group_recompute(*, tenant, actor, group: CustomerGroup,
                    trigger: str = GroupRun.Trigger.MANUAL) -> GroupRun:
    """Recompute ``group``'s members as a diff and record the run.

    Returns the run: DONE with joined / left / total / duration, or FAILED with the error
    (the rule no longer valid, a database error) — a failed run changes no member and
    leaves the group in recompute_state FAILED; running it again is safe. A run that finds
    nothing to change writes no GroupMember and no GroupEvent row: it records its GroupRun
    and updates the group's recomputed_at / recomputed_version only. Archived groups are
    refused (ValidationError); the nightly run skips them."""
    access.require(actor, "group.manage", tenant)
    _check_group(tenant, group)
    # Shown on the page while the run works; waits for a run already holding the lock.
    _set_state(group, RecomputeState.RUNNING)
    started = time.perf_counter()
    try:
        with transaction.atomic():
            locked = CustomerGroup.objects.select_for_update().get(tenant=tenant, pk=group.pk)
            if locked.is_archived:  # archived while this run waited for the lock
                run = None
            else:
                run = GroupRun.objects.create(tenant=tenant, group=locked, trigger=trigger,
                                              version=locked.version)
                diff = apply_diff(tenant, locked, run)
                finished = timezone.now()
                run.joined, run.left, run.total = diff.joined, diff.left, diff.total
                run.duration_ms = round((time.perf_counter() - started) * 1000)
                run.state, run.finished_at = GroupRun.State.DONE, finished
                run.save(update_fields=["joined", "left", "total", "duration_ms", "state",
                                        "finished_at"])
                CustomerGroup.objects.filter(pk=locked.pk).update(
                    recomputed_at=finished, recomputed_version=locked.version,
                    recompute_state=RecomputeState.IDLE)
    except ValidationError as exc:  # the rule is no longer valid (a tag of it deleted...)
        return _record_failure(tenant, group, trigger, started, "; ".join(exc.messages))
    except Exception as exc:  # a job boundary: the page must not stay on "Recomputing"
        logger.exception("recompute of group %s (shop %s) failed", group.pk, tenant.pk)
        return _record_failure(tenant, group, trigger, started, f"{type(exc).__name__}: {exc}")
    if run is not None and not connection.in_atomic_block:
        # Committed: the duration includes the commit, where PostgreSQL checks the new
        # rows' foreign keys (deferred): about half of a large first fill.
        run.duration_ms = round((time.perf_counter() - started) * 1000)
        GroupRun.objects.filter(pk=run.pk).update(duration_ms=run.duration_ms)
    if run is not None and diff.joined + diff.left >= ANALYZE_AFTER_CHANGES \
            and connection.vendor == "postgresql":
        # Fresh planner statistics for the next diff's plan (autovacuum would get
        # there, later; with it off, never): a first fill misjudged by 100x picks the
        # wrong joins.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TABLES['members']}")
    if run is None:
        _set_state(group, RecomputeState.IDLE)
        group.archived_at = locked.archived_at
        _check_group(tenant, group)
    group.member_count = diff.total
    group.recomputed_at, group.recomputed_version = finished, locked.version
    group.recompute_state = RecomputeState.IDLE
    return run


def _set_state(group, state: str) -> None:
    CustomerGroup.objects.filter(pk=group.pk).update(recompute_state=state)
    group.recompute_state = state


def _record_failure(tenant, group, trigger, started: float, error: str) -> GroupRun:
    with transaction.atomic():
        version = (CustomerGroup.objects.filter(pk=group.pk)
                   .values_list("version", flat=True).first() or group.version)
        run = GroupRun.objects.create(
            tenant=tenant, group=group, trigger=trigger, version=version,
            state=GroupRun.State.FAILED, error=error[:2000], finished_at=timezone.now(),
            duration_ms=round((time.perf_counter() - started) * 1000))
        _set_state(group, RecomputeState.FAILED)
    return run


@transaction.atomic
def group_recompute_request(*, tenant, actor, group: CustomerGroup,
                            trigger: str = GroupRun.Trigger.MANUAL) -> None:
    """Queue a recompute of ``group`` in the background (after commit). The page follows
    it through the group's recompute_state: queued, recomputing, then up to date (or
    failed) with the run's figures."""
    from .. import tasks

    access.require(actor, "group.manage", tenant)
    _check_group(tenant, group)
    _set_state(group, RecomputeState.QUEUED)
    tenant_id, group_id = tenant.pk, group.pk
    transaction.on_commit(lambda: tasks.group_recompute.delay(tenant_id, group_id, trigger))


def groups_recompute_all(*, tenant, trigger: str = GroupRun.Trigger.NIGHTLY) -> list[GroupRun]:
    """Recompute every group of the shop that is not archived, each in its own transaction
    (a failed group is recorded and the next one runs). Groups by conditions always; fixed
    lists only on the nightly run — their members change only when their pins do, and an
    edit of the pins applies its diff at once, so the nightly run is a cheap repair."""
    groups = CustomerGroup.objects.filter(tenant=tenant, archived_at__isnull=True)
    if trigger != GroupRun.Trigger.NIGHTLY:
        groups = groups.filter(kind=GroupKind.RULE)
    runs = []
    for group in groups.order_by("pk"):
        try:
            runs.append(group_recompute(tenant=tenant, actor=SYSTEM, group=group,
                                        trigger=trigger))
        except ValidationError:
            continue  # archived since the list was read
    return runs
