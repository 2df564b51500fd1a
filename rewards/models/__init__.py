"""Rewards models: the points ledger and what it derives (one module per area)."""
