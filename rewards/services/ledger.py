"""The one way entries reach the ledger: appended with the balance in one transaction,
under the agent's lock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from performance.models import Agent
from rewards.models import SPENDING_KINDS, AgentBalance, PointsEntry
from rewards.services.totals import totals_add

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


def entries_append(entries: Sequence[NewEntry]) -> list[PointsEntry]:
    """Append entries and move their agents' balances and leaderboard totals, in the
    caller's transaction, which must hold the agents' locks (balances_lock). A repeated
    idempotency key fails the whole transaction: the caller's view of the ledger was stale."""
    if not entries:
        return []
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
    lifetime: dict[int, int] = {}
    spendable: dict[int, int] = {}
    for entry in entries:
        spendable[entry.agent_id] = spendable.get(entry.agent_id, 0) + entry.points
        if entry.kind not in SPENDING_KINDS:
            lifetime[entry.agent_id] = lifetime.get(entry.agent_id, 0) + entry.points
    for agent_id, points in spendable.items():
        AgentBalance.objects.filter(agent_id=agent_id).update(
            spendable=F("spendable") + points, lifetime=F("lifetime") + lifetime.get(agent_id, 0)
        )
    totals_add(entries)
    return rows


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
