"""Resolving the agent named by a feed row to an Agent, per feed source."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from performance.models import Agent, AgentExternalId, FeedSource, TeamMembership
from performance.periods import local_midnight
from performance.roles import AGENT_GROUP
from performance.services.organisation import agent_membership_open


@dataclass
class AgentDirectory:
    """Every agent key a source may use, loaded once per batch."""

    source: FeedSource
    agent_ids: dict[str, int] = field(default_factory=dict)
    time_zones: dict[int, zoneinfo.ZoneInfo] = field(default_factory=dict)
    # Agents that moved team: where each later membership starts and its zone, latest first.
    moves: dict[int, list[tuple[datetime, zoneinfo.ZoneInfo]]] = field(default_factory=dict)

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
        moved = TeamMembership.objects.filter(
            agent_id__in=TeamMembership.objects.filter(ends_on__isnull=False).values("agent_id")
        ).order_by("agent_id", "starts_on")
        first_zone: dict[int, zoneinfo.ZoneInfo] = {}
        for agent_id, starts_on, zone_name in moved.values_list(
            "agent_id", "starts_on", "team__time_zone"
        ):
            zone = zones.setdefault(zone_name, zoneinfo.ZoneInfo(zone_name))
            if agent_id not in first_zone:
                first_zone[agent_id] = zone
                continue
            directory.moves.setdefault(agent_id, []).insert(
                0, (local_midnight(starts_on, zone), zone)
            )
        for agent_id, zone in first_zone.items():
            # Before its first move, an agent's facts are in its first team's zone.
            directory.time_zones[agent_id] = zone
        return directory

    def local_date(self, agent_id: int, instant: datetime) -> date:
        """The local date of `instant` for an agent: in the zone of the team the agent was
        in at that time (as the evaluation engine reads it)."""
        for starts_at, zone in self.moves.get(agent_id, ()):
            if instant >= starts_at:
                return instant.astimezone(zone).date()
        return instant.astimezone(self.time_zones[agent_id]).date()

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
    agent, created = Agent.objects.get_or_create(user=user, defaults={"team": source.default_team})
    if created:
        agent_membership_open(agent=agent)
    if source.agent_match == FeedSource.AgentMatch.EXTERNAL_ID:
        AgentExternalId.objects.get_or_create(source=source, external_id=key, agent=agent)
    return agent
