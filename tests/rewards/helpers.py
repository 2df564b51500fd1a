"""Evaluations and entries written directly, for ledger and leaderboard tests that need
outcomes or points, not the facts behind them (the engine's own tests cover how outcomes are
computed)."""

from __future__ import annotations

import itertools
from datetime import date

from django.db import transaction

from rewards.models import Leaderboard, PointsEntry
from rewards.services.ledger import NewEntry, balances_lock, entries_append
from tests.scenarios import POINTS, judge  # noqa: F401  (the rewards tests import them here)

NOV = date(2026, 11, 2)  # a Monday
_keys = itertools.count()


def award(
    agent,
    points: int,
    earned_on: date = NOV,
    standard=None,
    kind=PointsEntry.Kind.MANUAL_ADJUSTMENT,
) -> None:
    """Points for `agent` on `earned_on`, as an adjustment (reconciliation leaves it alone),
    or as an entry of another `kind` written directly."""
    key = f"test:{next(_keys)}"
    with transaction.atomic():
        balances_lock([agent.pk])
        entries_append(
            [
                NewEntry(
                    agent_id=agent.pk,
                    points=points,
                    kind=kind,
                    earned_on=earned_on,
                    reference=key,
                    idempotency_key=key,
                    note="test points",
                    standard_id=standard.pk if standard else None,
                )
            ]
        )


def board(**fields) -> Leaderboard:
    fields.setdefault("slug", f"board-{Leaderboard.objects.count() + 1}")
    fields.setdefault("name", fields["slug"].title())
    return Leaderboard.objects.create(**fields)


def store_item(name: str = "Cinema tickets", cost: int = 50, stock: int | None = 5, **fields):
    from rewards.models import StoreItem

    teams = fields.pop("teams", ())
    item = StoreItem.objects.create(name=name, cost=cost, stock=stock, **fields)
    item.teams.set(teams)
    return item
