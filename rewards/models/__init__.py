"""Rewards models: the points ledger, streaks, levels and leaderboards."""

from rewards.models.leaderboards import Leaderboard, PointsTotal
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
    "Leaderboard",
    "LedgerImmutableError",
    "Level",
    "PointsEntry",
    "PointsTotal",
    "ReconcileRequest",
    "StreakBonus",
]
