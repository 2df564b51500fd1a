"""Weeks of outcomes written in one string, and the flags read back in one shape, for the
coaching rule's tests."""

from __future__ import annotations

from datetime import date, timedelta

from coaching.models import CoachingFlag
from performance.models import Evaluation
from tests.scenarios import judge

# ISO week 23 of 2026 (from Monday 1 June): months before the tests' "today", so closed.
WEEK_0 = date.fromisocalendar(2026, 23, 1)

# One letter per week: missed, met, exceeded, met with its quality gate failed,
# insufficient data; "-" is no evaluation at all (the standard did not apply).
CODES = {
    "M": ("missed", None),
    "m": ("met", None),
    "e": ("exceeded", None),
    "g": ("met", False),
    "i": ("insufficient_data", None),
}


def week(index: int) -> date:
    return WEEK_0 + timedelta(weeks=index)


def weeks(agent, standard, codes: str, *, first: int = 0, values: dict | None = None) -> None:
    """Judge `agent` on weekly `standard` for consecutive weeks from week `first`, one
    letter each (spaces are ignored); `values` sets a week's value (default: 1.0)."""
    for offset, code in enumerate(codes.replace(" ", "")):
        index = first + offset
        if code == "-":
            Evaluation.objects.filter(
                agent=agent, standard=standard, period_start=week(index)
            ).delete()
            continue
        outcome, gate = CODES[code]
        judge(
            agent,
            standard,
            week(index),
            outcome,
            value=(values or {}).get(index, 1.0),
            gate_passed=gate,
        )


def flags_of(agent, standard=None) -> list[tuple]:
    """(status, opened week, resolved week or None, evidence weeks), oldest first."""
    flags = CoachingFlag.objects.filter(agent=agent).order_by("opened_on", "id")
    if standard is not None:
        flags = flags.filter(standard=standard)
    return [
        (
            flag.status,
            (flag.opened_on - WEEK_0).days // 7,
            None if flag.resolved_on is None else (flag.resolved_on - WEEK_0).days // 7,
            [(row.period_start - WEEK_0).days // 7 for row in flag.evidence.all()],
        )
        for flag in flags
    ]
