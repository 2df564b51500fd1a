from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from performance.models import Agent, AgentExternalId, FeedSource, Interaction, Team
from performance.roles import ADMIN_GROUP, AGENT_GROUP, QUALITY_ANALYST_GROUP, TEAM_LEAD_GROUP

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or PASSWORD)
        if create:
            user.save(update_fields=["password"])

    @factory.post_generation
    def groups(user, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                user.groups.add(Group.objects.get(name=name))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    time_zone = "UTC"


class AgentFactory(factory.django.DjangoModelFactory):
    user = factory.SubFactory(UserFactory, groups=[AGENT_GROUP])
    team = factory.SubFactory(TeamFactory)

    class Meta:
        model = Agent
        skip_postgeneration_save = True

    @factory.post_generation
    def membership(agent, create, extracted, **kwargs):
        """Its first team membership, as every way of creating an agent gives one
        (membership=False: an agent as the migration finds it, without)."""
        from performance.services.organisation import agent_membership_open

        if create and extracted is not False:
            agent_membership_open(agent=agent)


class FeedSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedSource
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Helpdesk {n}")
    slug = factory.Sequence(lambda n: f"helpdesk-{n}")
    time_zone = "UTC"


class AgentExternalIdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentExternalId

    agent = factory.SubFactory(AgentFactory)
    source = factory.SubFactory(FeedSourceFactory)
    external_id = factory.Sequence(lambda n: f"A{n}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    source = factory.SubFactory(FeedSourceFactory)
    external_id = factory.Sequence(lambda n: f"I{n}")
    agent = factory.SubFactory(AgentFactory)
    channel = "phone"
    started_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
    qa_score = None
    # As a feed stores it: its score is also the feed's.
    feed_qa_score = factory.SelfAttribute("qa_score")


def make_lead(team: Team, **kwargs) -> object:
    user = UserFactory(groups=[TEAM_LEAD_GROUP], **kwargs)
    team.leads.add(user)
    return user


def make_quality_analyst(*teams: Team, **kwargs) -> object:
    user = UserFactory(groups=[QUALITY_ANALYST_GROUP], **kwargs)
    for team in teams:
        team.quality_analysts.add(user)
    return user


def make_admin(**kwargs) -> object:
    return UserFactory(groups=[ADMIN_GROUP], is_staff=True, is_superuser=True, **kwargs)


class FeedBatchFactory(factory.django.DjangoModelFactory):
    """A finished batch as the pages list it (no stored file: for access and list tests)."""

    class Meta:
        model = "performance.FeedBatch"

    source = factory.SubFactory(FeedSourceFactory)
    format = "csv"
    via = "upload"
    original_name = factory.Sequence(lambda n: f"feed-{n}.csv")
    size_bytes = 1024
    checksum_sha256 = "0" * 64
    status = "completed"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    bytes_processed = 1024
    runs = 1


class FeedRowErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "performance.FeedRowError"

    batch = factory.SubFactory(FeedBatchFactory)
    line = factory.Sequence(lambda n: n + 2)
    field = "csat"
    reason = "9 is outside 1-5"
    raw = factory.LazyAttribute(lambda e: f"T{e.line},A1,phone,2026-10-05T10:00:00Z,9")


def standard_draft(**fields) -> object:
    """An unsaved service standard: daily CSAT >= 80 from 2026, a sample of 1, 10/20 points."""
    from datetime import date

    from performance.models import ServiceStandard

    defaults = {
        "name": "Draft",
        "metric": "csat",
        "period": "day",
        "active_from": date(2026, 1, 1),
        "target": 80,
        "min_sample": 1,
        "points_met": 10,
        "points_exceeded": 20,
    }
    return ServiceStandard(**{**defaults, **fields})


def make_standard(**fields) -> object:
    """A saved service standard with its first version (through the real service)."""
    from performance.models import ServiceStandard
    from performance.services.standards import standard_save

    teams = fields.pop("teams", [])
    fields.setdefault("name", f"Standard {ServiceStandard.objects.count() + 1}")
    standard = standard_draft(**fields)
    standard.full_clean(exclude=["teams"])
    standard_save(standard=standard)
    if teams:
        standard.teams.set(teams)
    return standard


def make_interactions(agent, *, source, on, count: int = 1, channel: str = "phone", **fields):
    """`count` interactions of `agent` on day `on` (from 12:00 UTC, a minute apart). A list
    value gives one value per interaction: make_interactions(..., count=3, csat=[5, 4, 2])."""
    from datetime import UTC, datetime, time, timedelta

    noon = datetime.combine(on, time(12), tzinfo=UTC)
    return [
        InteractionFactory(
            agent=agent,
            source=source,
            channel=channel,
            started_at=noon + timedelta(minutes=index),
            **{
                name: value[index] if isinstance(value, list) else value
                for name, value in fields.items()
            },
        )
        for index in range(count)
    ]
