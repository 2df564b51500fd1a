"""Badges as agents see them: each badge held, how many times, the latest evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from performance.models import Agent
from rewards.models import AgentBadge, Badge


@dataclass(frozen=True)
class HeldBadge:
    badge: Badge
    times: int
    last_earned_on: date
    evidence: str  # of the latest time


def agent_badges(agent: Agent) -> list[HeldBadge]:
    """The agent's badges, most recently earned first (one query)."""
    held: dict[int, HeldBadge] = {}
    for row in (
        AgentBadge.objects.filter(agent=agent).select_related("badge").order_by("-earned_on", "-id")
    ):
        seen = held.get(row.badge_id)
        if seen is None:
            held[row.badge_id] = HeldBadge(row.badge, 1, row.earned_on, row.evidence)
        else:
            held[row.badge_id] = HeldBadge(
                seen.badge, seen.times + 1, seen.last_earned_on, seen.evidence
            )
    return list(held.values())
