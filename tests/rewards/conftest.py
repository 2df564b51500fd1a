"""Worlds the rewards tests share."""

from __future__ import annotations

import pytest

from tests.rewards.helpers import award
from tests.scenarios import agent_in


@pytest.fixture
def crowd(lisbon):
    """Six agents of Lisbon with 50, 40, 40, 30, 20 and 10 points in November."""
    agents = [agent_in(lisbon, name) for name in ("ana", "bea", "caio", "duda", "edu", "fabi")]
    for agent, points in zip(agents, (50, 40, 40, 30, 20, 10), strict=True):
        award(agent, points)
    return agents
