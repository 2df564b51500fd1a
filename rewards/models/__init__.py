"""Rewards models: the points ledger, streaks, badges, levels, leaderboards, challenges and
the store."""

from rewards.models.badges import BADGE_ICONS, AgentBadge, Badge
from rewards.models.challenges import (
    CHALLENGE_METRIC_CHOICES,
    Challenge,
    ChallengePrize,
    ChallengeResult,
)
from rewards.models.leaderboards import Leaderboard, PointsTotal
from rewards.models.ledger import (
    SPENDING_KINDS,
    AgentBalance,
    LedgerImmutableError,
    PointsEntry,
    ReconcileRequest,
)
from rewards.models.progress import AgentStreak, Level, StreakBonus
from rewards.models.store import MAX_ITEM_COST, Redemption, StoreItem

__all__ = [
    "BADGE_ICONS",
    "CHALLENGE_METRIC_CHOICES",
    "MAX_ITEM_COST",
    "SPENDING_KINDS",
    "AgentBadge",
    "AgentBalance",
    "AgentStreak",
    "Badge",
    "Challenge",
    "ChallengePrize",
    "ChallengeResult",
    "Leaderboard",
    "LedgerImmutableError",
    "Level",
    "PointsEntry",
    "PointsTotal",
    "ReconcileRequest",
    "Redemption",
    "StoreItem",
    "StreakBonus",
]
