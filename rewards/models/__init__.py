"""Rewards models: the points ledger, streaks and levels (badges and the store to come)."""

from rewards.models.ledger import (
    SPENDING_KINDS,
    AgentBalance,
    LedgerImmutableError,
    PointsEntry,
    ReconcileRequest,
)
from rewards.models.progress import AgentStreak, Level, StreakBonus

__all__ = [
    "SPENDING_KINDS",
    "AgentBalance",
    "AgentStreak",
    "LedgerImmutableError",
    "Level",
    "PointsEntry",
    "ReconcileRequest",
    "StreakBonus",
]
