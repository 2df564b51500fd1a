"""Evaluations written directly, for ledger tests that need outcomes, not the facts behind
them (the engine's own tests cover how outcomes are computed)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from performance.models import Evaluation, StandardVersion
from performance.periods import period_containing

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
