"""Evaluations and entries written directly, for ledger and leaderboard tests that need
outcomes or points, not the facts behind them (the engine's own tests cover how outcomes are
computed)."""

from __future__ import annotations

import itertools
from datetime import date

from django.db import transaction
from django.utils import timezone

from performance.models import Evaluation, StandardVersion
from performance.periods import period_containing
from rewards.models import Leaderboard, PointsEntry
from rewards.services.ledger import NewEntry, balances_lock, entries_append

NOV = date(2026, 11, 2)  # a Monday
_keys = itertools.count()

POINTS = {"exceeded": 20, "met": 10, "missed": 0, "insufficient_data": 0}


def judge(agent, standard, start: date, outcome: str, points: int | None = None) -> Evaluation:
    """Set (create or replace) the evaluation of `agent` on `standard` for the period at
    `start`, as an evaluation run would."""
    period = period_containing(start, standard.period)
    version = StandardVersion.objects.filter(standard=standard).order_by("-pk").first()
    evaluation, _ = Evaluation.objects.update_or_create(
        agent=agent,
        standard=standard,
        period_start=period.start,
        defaults={
            "version": version,
            "period_end": period.end,
            "value": 1.0,
            "sample_size": 5,
            "outcome": outcome,
            "points": POINTS[outcome] if points is None else points,
            "computed_at": timezone.now(),
        },
    )
    return evaluation


def award(agent, points: int, earned_on: date = NOV, standard=None) -> None:
    """Points for `agent` on `earned_on`, as an adjustment (reconciliation leaves it alone)."""
    key = f"test:{next(_keys)}"
    with transaction.atomic():
        balances_lock([agent.pk])
        entries_append(
            [
                NewEntry(
                    agent_id=agent.pk,
                    points=points,
                    kind=PointsEntry.Kind.MANUAL_ADJUSTMENT,
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
