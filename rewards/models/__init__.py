"""Rewards models: the points ledger (more to come: streaks, badges, levels, the store)."""

from rewards.models.ledger import (
    SPENDING_KINDS,
    AgentBalance,
    LedgerImmutableError,
    PointsEntry,
    ReconcileRequest,
)

__all__ = [
    "SPENDING_KINDS",
    "AgentBalance",
    "LedgerImmutableError",
    "PointsEntry",
    "ReconcileRequest",
]
