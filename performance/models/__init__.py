"""Performance models by concern; everything is importable from `performance.models`."""

from performance.models.feeds import (
    AgentExternalId,
    FeedBatch,
    FeedBatchTouch,
    FeedRowError,
    FeedSource,
    Interaction,
)
from performance.models.organisation import (
    Agent,
    Channel,
    Team,
    UserPreference,
    validate_time_zone,
)
from performance.models.standards import RULE_FIELDS, Evaluation, ServiceStandard, StandardVersion

__all__ = [
    "RULE_FIELDS",
    "Agent",
    "AgentExternalId",
    "Channel",
    "Evaluation",
    "FeedBatch",
    "FeedBatchTouch",
    "FeedRowError",
    "FeedSource",
    "Interaction",
    "ServiceStandard",
    "StandardVersion",
    "Team",
    "UserPreference",
    "validate_time_zone",
]
