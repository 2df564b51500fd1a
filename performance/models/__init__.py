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
from performance.models.notifications import Notification
from performance.models.organisation import (
    MEMBERSHIP_ORIGIN,
    Agent,
    Channel,
    Team,
    TeamMembership,
    UserPreference,
    validate_time_zone,
)
from performance.models.standards import (
    MEANING_FIELDS,
    RULE_FIELD_NAMES,
    RULE_FIELDS,
    STANDARD_FIELDS,
    Evaluation,
    RuleFields,
    ServiceStandard,
    StandardVersion,
)

__all__ = [
    "MEANING_FIELDS",
    "MEMBERSHIP_ORIGIN",
    "RULE_FIELDS",
    "RULE_FIELD_NAMES",
    "STANDARD_FIELDS",
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
    "Notification",
    "RuleFields",
    "ServiceStandard",
    "StandardVersion",
    "Team",
    "TeamMembership",
    "UserPreference",
    "validate_time_zone",
]
