"""Resolving the agent named by a feed row to an Agent, per feed source."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from performance.feeds import Message
from performance.models import Agent, AgentExternalId, FeedSource, TeamMembership
from performance.periods import local_midnight
from performance.roles import AGENT_GROUP
from performance.services.organisation import agent_membership_open


class FeedAgentRefused(Exception):
    """An unknown agent key a feed may not create an agent for; `message` says why."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass
class AgentDirectory:
    """Every agent key a source may use, loaded once per batch."""

    source: FeedSource
    agent_ids: dict[str, int] = field(default_factory=dict)
    time_zones: dict[int, zoneinfo.ZoneInfo] = field(default_factory=dict)
    # Each agent's team, for the write scope of a lead's upload.
    team_ids: dict[int, int] = field(default_factory=dict)
    # Keys refused once in this batch are refused again without asking the database.
    refusals: dict[str, FeedAgentRefused] = field(default_factory=dict)
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
        teams_and_zones = Agent.objects.values_list("id", "team_id", "team__time_zone")
        for agent_id, team_id, zone in teams_and_zones:
            directory.time_zones[agent_id] = zones.setdefault(zone, zoneinfo.ZoneInfo(zone))
            directory.team_ids[agent_id] = team_id
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
        """The agent a key names; an unknown one is created when the source allows it.
        Raises FeedAgentRefused when it may not be created."""
        agent_id = self.agent_ids.get(key.lower())
        if agent_id is None and self.source.create_unknown_agents:
            if (refusal := self.refusals.get(key.lower())) is not None:
                raise refusal
            try:
                agent = agent_create_from_feed(source=self.source, key=key)
            except FeedAgentRefused as refusal:
                self.refusals[key.lower()] = refusal
                raise
            agent_id = self.agent_ids[key.lower()] = agent.id
            self.time_zones[agent.id] = zoneinfo.ZoneInfo(agent.team.time_zone)
            self.team_ids[agent.id] = agent.team_id
        return agent_id


LOGIN_TAKEN = gettext_noop(
    "unknown agent %(key)s: a login with this username or e-mail already exists, and a feed "
    "never turns an existing login into an agent; if it is this person, link them in admin "
    "(Agents, and Agent external ids for this source)"
)


@transaction.atomic
def agent_create_from_feed(*, source: FeedSource, key: str) -> Agent:
    """Create the agent an unknown feed key names, in the source's default team.

    Always with a login of its own, never an existing one (DESIGN, roles and access): a key
    whose username or e-mail already belongs to anyone (an admin, a lead, an agent of any
    team, an inactive login) raises FeedAgentRefused, for an admin to link the person.
    """
    User = get_user_model()
    match source.agent_match:
        case FeedSource.AgentMatch.EMAIL:
            username, email = key.lower(), key.lower()
        case FeedSource.AgentMatch.USERNAME:
            username, email = key, ""
        case _:
            username, email = _unused_username(f"{source.slug}-{key}"), ""
    refusal = FeedAgentRefused(Message(LOGIN_TAKEN, {"key": repr(key)}))
    taken = Q(username__iexact=username) | (Q(email__iexact=email) if email else Q(pk__in=[]))
    if User.objects.filter(taken).exists():
        raise refusal
    user = User(username=username, email=email)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # created meanwhile by another feed
        raise refusal from None
    user.groups.add(Group.objects.get(name=AGENT_GROUP))
    agent = Agent.objects.create(user=user, team=source.default_team)
    agent_membership_open(agent=agent)
    if source.agent_match == FeedSource.AgentMatch.EXTERNAL_ID:
        AgentExternalId.objects.create(source=source, external_id=key, agent=agent)
    return agent


def _unused_username(base: str) -> str:
    """`base` (cut to the username's length), else with the first free `-2`, `-3`... suffix:
    a generated login never lands on someone else's."""
    User = get_user_model()
    length = User._meta.get_field(User.USERNAME_FIELD).max_length
    candidate, number = base[:length], 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        suffix = f"-{number}"
        candidate = base[: length - len(suffix)] + suffix
    return candidate
