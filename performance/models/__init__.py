"""Performance models by concern; everything is importable from `performance.models`."""

from performance.models.changes import ChangeCursor, EvaluationChange
from performance.models.feeds import (
    AgentExternalId,
    FeedBatch,
    FeedBatchTouch,
    FeedRowError,
    FeedSource,
    Interaction,
)
from performance.models.organisation import Agent, Channel, Team, validate_time_zone
from performance.models.standards import RULE_FIELDS, Evaluation, ServiceStandard, StandardVersion

__all__ = [
    "RULE_FIELDS",
    "Agent",
    "AgentExternalId",
    "ChangeCursor",
    "Channel",
    "Evaluation",
    "EvaluationChange",
    "FeedBatch",
    "FeedBatchTouch",
    "FeedRowError",
    "FeedSource",
    "Interaction",
    "ServiceStandard",
    "StandardVersion",
    "Team",
    "validate_time_zone",
]
