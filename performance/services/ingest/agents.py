"""Resolving the agent named by a feed row to an Agent, per feed source."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from performance.models import Agent, AgentExternalId, FeedSource
from performance.roles import AGENT_GROUP


@dataclass
class AgentDirectory:
    """Every agent key a source may use, loaded once per batch."""

    source: FeedSource
    agent_ids: dict[str, int] = field(default_factory=dict)
    time_zones: dict[int, zoneinfo.ZoneInfo] = field(default_factory=dict)

    @classmethod
    def for_source(cls, source: FeedSource) -> AgentDirectory:
        directory = cls(source=source)
        match source.agent_match:
            case FeedSource.AgentMatch.EXTERNAL_ID:
                pairs = AgentExternalId.objects.filter(source=source).values_list(
                    "external_id", "agent_id"
                )
            case FeedSource.AgentMatch.USERNAME:
                pairs = Agent.objects.values_list("user__username", "id")
            case _:
                pairs = Agent.objects.exclude(user__email="").values_list("user__email", "id")
        directory.agent_ids = {key.lower(): agent_id for key, agent_id in pairs}
        zones: dict[str, zoneinfo.ZoneInfo] = {}
        for agent_id, zone in Agent.objects.values_list("id", "team__time_zone"):
            directory.time_zones[agent_id] = zones.setdefault(zone, zoneinfo.ZoneInfo(zone))
        return directory

    def resolve(self, key: str) -> int | None:
        agent_id = self.agent_ids.get(key.lower())
        if agent_id is None and self.source.create_unknown_agents:
            agent = agent_create_from_feed(source=self.source, key=key)
            agent_id = self.agent_ids[key.lower()] = agent.id
            self.time_zones[agent.id] = zoneinfo.ZoneInfo(agent.team.time_zone)
        return agent_id


@transaction.atomic
def agent_create_from_feed(*, source: FeedSource, key: str) -> Agent:
    """Create the agent an unknown feed key names, in the source's default team."""
    User = get_user_model()
    match source.agent_match:
        case FeedSource.AgentMatch.EMAIL:
            username, email = key.lower(), key.lower()
        case FeedSource.AgentMatch.USERNAME:
            username, email = key, ""
        case _:
            username, email = f"{source.slug}-{key}"[:150], ""
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=AGENT_GROUP))
    agent, _ = Agent.objects.get_or_create(user=user, defaults={"team": source.default_team})
    if source.agent_match == FeedSource.AgentMatch.EXTERNAL_ID:
        AgentExternalId.objects.get_or_create(source=source, external_id=key, agent=agent)
    return agent
