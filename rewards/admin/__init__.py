"""Rewards admin: the ledger and balances are read-only here (entries are appended by
reconciliation and by the adjustment form, never edited)."""

from rewards.admin import badges, challenges, leaderboards, ledger, progress, store  # noqa: F401
