"""Shared worlds for tests: the login helper, a team with its lead and agents, a scored week.

Builders take what they build on (teams, agents, a source) as arguments, so the persona
fixtures in tests/conftest.py stay thin and a test builds only what it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from performance.models import Agent, Evaluation, FeedSource, ServiceStandard, StandardVersion, Team
from performance.periods import period_containing
from performance.roles import AGENT_GROUP
from performance.services.evaluation import evaluate_periods
from tests.factories import (
    AgentExternalIdFactory,
    AgentFactory,
    TeamFactory,
    UserFactory,
    make_interactions,
    make_lead,
    make_standard,
)

# ISO week 44 of 2026 (Monday 26 October to Sunday 1 November) and the week before it.
WEEK_43_MONDAY = date(2026, 10, 19)
WEEK_44_MONDAY = date(2026, 10, 26)
WEEK_44_TUESDAY = date(2026, 10, 27)
WEEK_44_SUNDAY = date(2026, 11, 1)


def login(client: Client, person: Agent | AbstractBaseUser) -> AbstractBaseUser:
    """Log `client` in as a persona: a user, or an agent (as the agent's user)."""
    user = person.user if isinstance(person, Agent) else person
    client.force_login(user)
    return user


def agent_in(
    team: Team,
    username: str,
    *,
    source: FeedSource | None = None,
    external_id: str | None = None,
    **user_fields: object,
) -> Agent:
    """An agent of `team` (a user in the Agent group), known to `source` as `external_id`."""
    agent = AgentFactory(
        user=UserFactory(
            username=username,
            email=f"{username}@example.com",
            groups=[AGENT_GROUP],
            **user_fields,
        ),
        team=team,
    )
    if source is not None:
        AgentExternalIdFactory(agent=agent, source=source, external_id=external_id or username)
    return agent


@dataclass
class TeamWorld:
    team: Team
    lead: AbstractBaseUser
    agents: dict[str, Agent] = field(default_factory=dict)


def team_with_lead_and_agents(
    name: str,
    *,
    lead: str,
    agents: list[str],
    time_zone: str = "UTC",
    source: FeedSource | None = None,
) -> TeamWorld:
    """A team, its lead and its agents (each known to `source` by their username)."""
    team = TeamFactory(name=name, time_zone=time_zone)
    return TeamWorld(
        team=team,
        lead=make_lead(team, username=lead),
        agents={username: agent_in(team, username, source=source) for username in agents},
    )


def week_standards(*, daily: bool = False) -> dict[str, ServiceStandard]:
    """Weekly CSAT (stretch 90, 3 responses), phone AHT gated on weekly QA, and with `daily`
    a daily CSAT: the standards a scored week is judged by."""
    quality = make_standard(name="Quality", metric="qa", period="week", target=85, min_sample=1)
    standards = {
        "csat": make_standard(
            name="Customer satisfaction",
            metric="csat",
            period="week",
            target=80,
            stretch_target=90,
            min_sample=3,
        ),
        "aht": make_standard(
            name="Phone handle time",
            metric="aht",
            channel="phone",
            period="week",
            target=360,
            stretch_target=300,
            min_sample=2,
            quality_gate=quality,
        ),
        "qa": quality,
    }
    if daily:
        standards["daily"] = make_standard(
            name="Daily CSAT", metric="csat", period="day", target=80
        )
    return standards


def score_week_44(
    good: Agent, poor: Agent, *, source: FeedSource, week_before: bool = False
) -> None:
    """Facts for ISO week 44, evaluated: `good` exceeds CSAT, meets AHT (gate passed) and
    QA; `poor` misses CSAT and AHT and has no QA data. With `week_before`, `good` also
    misses CSAT in week 43."""
    if week_before:
        make_interactions(good, source=source, on=date(2026, 10, 21), count=3, csat=[5, 3, 2])
    make_interactions(
        good,
        source=source,
        on=WEEK_44_TUESDAY,
        count=4,
        csat=[5, 5, 4, 4],
        handle_seconds=[300, 320, 300, 320],
        qa_score=[90, None, None, None],
    )
    make_interactions(
        poor,
        source=source,
        on=WEEK_44_TUESDAY,
        count=3,
        csat=[1, 2, 5],
        handle_seconds=[400, 420, 440],
    )
    evaluate_periods(since=WEEK_43_MONDAY, until=WEEK_44_SUNDAY)


POINTS = {"exceeded": 20, "met": 10, "missed": 0, "insufficient_data": 0}


def judge(
    agent: Agent,
    standard: ServiceStandard,
    start: date,
    outcome: str,
    points: int | None = None,
    *,
    value: float = 1.0,
    gate_passed: bool | None = None,
) -> Evaluation:
    """Set (create or replace) the evaluation of `agent` on `standard` for the period at
    `start`, as an evaluation run would: for tests of what is derived from outcomes (points,
    flags), not of how outcomes are computed."""
    period = period_containing(start, standard.period)
    versions = StandardVersion.objects.filter(standard=standard).order_by("-number")
    version = versions.filter(effective_from__lte=period.start).first() or versions.first()
    evaluation, _ = Evaluation.objects.update_or_create(
        agent=agent,
        standard=standard,
        period_start=period.start,
        defaults={
            "version": version,
            "period_end": period.end,
            "value": value,
            "sample_size": 5,
            "outcome": outcome,
            "gate_passed": gate_passed,
            "points": POINTS[outcome] if points is None else points,
            "computed_at": timezone.now(),
        },
    )
    return evaluation
