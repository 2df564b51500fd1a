"""The one way entries reach the ledger: appended with the balance in one transaction,
under the agent's lock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.bulk import rows_insert
from performance.models import Agent
from rewards.models import SPENDING_KINDS, AgentBalance, PointsEntry
from rewards.services.notices import levels_reached_notify
from rewards.services.totals import totals_add, totals_add_selected

# A manual adjustment larger than this is a typo, not a decision.
MANUAL_ADJUSTMENT_LIMIT = 10_000


@dataclass(frozen=True)
class NewEntry:
    agent_id: int
    points: int
    kind: str
    earned_on: date
    reference: str
    idempotency_key: str
    note: str = ""
    standard_id: int | None = None
    outcome: str = ""
    created_by: AbstractBaseUser | None = None


def balances_lock(agent_ids: Iterable[int]) -> dict[int, AgentBalance]:
    """Each agent's balance row, created if missing and locked (in id order, so that two
    writers never wait on each other crosswise) until the caller's transaction ends."""
    agent_ids = sorted(set(agent_ids))
    existing = set(
        AgentBalance.objects.filter(agent_id__in=agent_ids).values_list("agent_id", flat=True)
    )
    missing = [
        AgentBalance(agent_id=agent_id) for agent_id in agent_ids if agent_id not in existing
    ]
    AgentBalance.objects.bulk_create(missing, ignore_conflicts=True)
    locked = (
        AgentBalance.objects.select_for_update().filter(agent_id__in=agent_ids).order_by("agent_id")
    )
    return {balance.agent_id: balance for balance in locked}


# Above this many entries the rows go in by COPY (PostgreSQL) or one executemany (SQLite)
# instead of model instances: a first reconciliation writes a million.
BULK_ENTRIES = 1_000
ENTRY_COLUMNS = (
    "agent_id",
    "points",
    "kind",
    "earned_on",
    "reference",
    "idempotency_key",
    "note",
    "standard_id",
    "outcome",
    "created_by_id",
    "created_at",
)


def entries_append(entries: Sequence[NewEntry]) -> list[PointsEntry]:
    """Append entries and move their agents' balances and leaderboard totals, in the
    caller's transaction, which must hold the agents' locks (balances_lock). A repeated
    idempotency key fails the whole transaction: the caller's view of the ledger was stale.
    Returns the entries as rows, except for a bulk append (reconciliation's), which
    returns none."""
    if not entries:
        return []
    if len(entries) > BULK_ENTRIES:
        _entries_copy(entries)
        rows: list[PointsEntry] = []
    else:
        rows = PointsEntry.objects.bulk_create(
            [
                PointsEntry(
                    agent_id=entry.agent_id,
                    points=entry.points,
                    kind=entry.kind,
                    earned_on=entry.earned_on,
                    reference=entry.reference,
                    idempotency_key=entry.idempotency_key,
                    note=entry.note,
                    standard_id=entry.standard_id,
                    outcome=entry.outcome,
                    created_by=entry.created_by,
                )
                for entry in entries
            ]
        )
    _entries_moved(entries)
    return rows


def entries_append_selected(
    select: str, params: Sequence, *, earned: str, earned_params: Sequence
) -> tuple[int, int]:
    """Append the entries a SELECT yields (the ENTRY_COLUMNS, in order) and move balances
    and totals as entries_append does, in the caller's transaction under the agents' locks:
    for many entries worked out in SQL (reconciliation's new references), which never pass
    through Python one by one. `earned` is a SELECT of the same entries' (agent_id,
    earned_on, standard_id, points), without what only the ledger keeps (notes, keys); they
    must all be earned entries (no spending kind). Returns (entries, points) appended."""
    table = connection.ops.quote_name(PointsEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(ENTRY_COLUMNS)}) {select}", params)
        appended = cursor.rowcount
        if not appended:
            return 0, 0
        cursor.execute(
            f"WITH e (agent_id, earned_on, standard_id, points) AS ({earned}) "
            "SELECT agent_id, SUM(points) FROM e GROUP BY agent_id",
            earned_params,
        )
        moved = {agent_id: int(points) for agent_id, points in cursor.fetchall()}
    _balances_and_levels(spendable=moved, lifetime=moved)
    totals_add_selected(earned, earned_params)
    return appended, sum(moved.values())


def _entries_moved(entries: Sequence[NewEntry]) -> None:
    """Balances, leaderboard totals and levels reached, after entries were appended."""
    lifetime: dict[int, int] = {}
    spendable: dict[int, int] = {}
    for entry in entries:
        spendable[entry.agent_id] = spendable.get(entry.agent_id, 0) + entry.points
        if entry.kind not in SPENDING_KINDS:
            lifetime[entry.agent_id] = lifetime.get(entry.agent_id, 0) + entry.points
    _balances_and_levels(spendable=spendable, lifetime=lifetime)
    totals_add(entries)


def _balances_and_levels(*, spendable: dict[int, int], lifetime: dict[int, int]) -> None:
    before = (
        dict(
            AgentBalance.objects.filter(agent_id__in=list(lifetime)).values_list(
                "agent_id", "lifetime"
            )
        )
        if any(points > 0 for points in lifetime.values())
        else {}
    )
    _balances_move({a: (p, lifetime.get(a, 0)) for a, p in spendable.items()})
    levels_reached_notify(
        [(agent_id, was, was + lifetime[agent_id]) for agent_id, was in before.items()]
    )


def _entries_copy(entries: Sequence[NewEntry]) -> None:
    now = timezone.now()
    values = [
        (
            e.agent_id,
            e.points,
            e.kind,
            e.earned_on,
            e.reference,
            e.idempotency_key,
            e.note,
            e.standard_id,
            e.outcome,
            e.created_by.pk if e.created_by else None,
            now,
        )
        for e in entries
    ]
    rows_insert(PointsEntry, ENTRY_COLUMNS, values)


def _balances_move(moves: dict[int, tuple[int, int]]) -> None:
    """Add (spendable, lifetime) to each agent's balance, in one statement per 500 agents."""
    table = connection.ops.quote_name(AgentBalance._meta.db_table)
    items = sorted(moves.items())
    now = timezone.now()
    with connection.cursor() as cursor:
        for first in range(0, len(items), 500):
            chunk = items[first : first + 500]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"WITH moved (agent_id, spendable, lifetime) AS (VALUES {values}) "
                f"UPDATE {table} SET spendable = {table}.spendable + moved.spendable, "
                f"lifetime = {table}.lifetime + moved.lifetime, updated_at = %s "
                f"FROM moved WHERE {table}.agent_id = moved.agent_id",
                [*(v for agent_id, (sp, lt) in chunk for v in (agent_id, sp, lt)), now],
            )


def manual_adjustment_create(
    *, agent: Agent, points: int, note: str, created_by: AbstractBaseUser, earned_on: date
) -> PointsEntry:
    """A lead's or admin's correction; access is the caller's check (the view's scope)."""
    note = note.strip()
    errors: dict[str, str] = {}
    if not note:
        errors["note"] = _("Say why: the reason is kept with the adjustment.")
    if points == 0:
        errors["points"] = _("An adjustment must add or take away points.")
    elif abs(points) > MANUAL_ADJUSTMENT_LIMIT:
        errors["points"] = _("At most %(limit)s points either way.") % {
            "limit": MANUAL_ADJUSTMENT_LIMIT
        }
    if errors:
        raise ValidationError(errors)
    key = f"manual:{uuid.uuid4()}"
    with transaction.atomic():
        balances_lock([agent.pk])
        (entry,) = entries_append(
            [
                NewEntry(
                    agent_id=agent.pk,
                    points=points,
                    kind=PointsEntry.Kind.MANUAL_ADJUSTMENT,
                    earned_on=earned_on,
                    reference=key,
                    idempotency_key=key,
                    note=note,
                    created_by=created_by,
                )
            ]
        )
    return entry
