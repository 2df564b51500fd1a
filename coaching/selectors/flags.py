"""Reads of coaching flags: the lead's queue by severity, an agent's open flags as goals, a
flag with its evidence against the evaluations as they stand now."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils.translation import gettext, ngettext

from coaching.models import CoachingFlag, FlagEvidence
from performance.access import agents_visible_to, teams_led_by
from performance.metrics import Direction
from performance.models import Agent, Evaluation, ServiceStandard
from performance.periods import Period, PeriodKind, period_containing
from performance.roles import is_team_lead
from performance.templatetags.metric_format import format_metric_value


def flags_visible_to(user: AbstractBaseUser) -> QuerySet[CoachingFlag]:
    """The flags of the agents a user may see (performance.access.agents_visible_to)."""
    return CoachingFlag.objects.select_related(
        "agent__user", "agent__team", "standard", "opened_by", "resolved_by"
    ).filter(agent__in=agents_visible_to(user).values("pk"))


def flag_for_user_or_404(user: AbstractBaseUser, flag_id: int) -> CoachingFlag:
    try:
        return flags_visible_to(user).get(pk=flag_id)
    except CoachingFlag.DoesNotExist:
        raise Http404(gettext("No such coaching flag")) from None


def may_act_on(user: AbstractBaseUser, flag: CoachingFlag) -> bool:
    """Leads resolve and dismiss the flags of the agents they lead (the caller reached the
    flag through flag_for_user_or_404), never their own."""
    return is_team_lead(user) and flag.agent.user_id != user.pk


def queue_agents(user: AbstractBaseUser) -> QuerySet[Agent]:
    """The agents in a lead's queue: the active agents of the teams they lead (an admin:
    all), never the lead themself."""
    return (
        Agent.objects.select_related("user", "team")
        .filter(team__in=teams_led_by(user), active=True)
        .exclude(user=user)
    )


def coaching_queue(
    user: AbstractBaseUser,
    *,
    team_id: int | None = None,
    standard_id: int | None = None,
    agent_id: int | None = None,
) -> QuerySet[CoachingFlag]:
    """Open flags of the lead's agents, most severe first: most misses, then furthest from
    target, then oldest."""
    flags = CoachingFlag.objects.select_related("agent__user", "agent__team", "standard").filter(
        status=CoachingFlag.Status.OPEN, agent__in=queue_agents(user).values("pk")
    )
    if team_id is not None:
        flags = flags.filter(agent__team_id=team_id)
    if standard_id is not None:
        flags = flags.filter(standard_id=standard_id)
    if agent_id is not None:
        flags = flags.filter(agent_id=agent_id)
    return flags.order_by(
        "-missed_periods", F("gap").desc(nulls_last=True), "opened_on", "agent_id", "id"
    )


def flag_period(flag: CoachingFlag) -> Period:
    return period_containing(flag.opened_on, flag.standard.period)


def _period_count(count: int, kind: str) -> str:
    match PeriodKind(kind):
        case PeriodKind.DAY:
            return ngettext("%(count)s day in a row", "%(count)s days in a row", count) % {
                "count": count
            }
        case PeriodKind.WEEK:
            return ngettext("%(count)s week in a row", "%(count)s weeks in a row", count) % {
                "count": count
            }
        case _:
            return ngettext("%(count)s month in a row", "%(count)s months in a row", count) % {
                "count": count
            }


def flag_goal(standard: ServiceStandard) -> str:
    """A flag framed as what to reach: "Reach 85 % or more in First contact resolution,
    2 weeks in a row" (the standard's current target and resolution rule)."""
    metric = standard.metric_definition
    target = format_metric_value(standard.target, metric)
    wording = (
        gettext("Reach %(target)s or more in %(standard)s, %(periods)s")
        if metric.direction is Direction.HIGHER
        else gettext("Reach %(target)s or less in %(standard)s, %(periods)s")
    )
    return wording % {
        "target": target,
        "standard": standard.name,
        "periods": _period_count(standard.coaching_resolve_after, standard.period),
    }


@dataclass(frozen=True)
class AgentGoal:
    flag: CoachingFlag
    goal: str
    since: Period


def agent_goals(agent: Agent) -> list[AgentGoal]:
    """An agent's open flags, each as the goal that closes it."""
    flags = CoachingFlag.objects.select_related("standard").filter(
        agent=agent, status=CoachingFlag.Status.OPEN
    )
    return [
        AgentGoal(flag=flag, goal=flag_goal(flag.standard), since=flag_period(flag))
        for flag in flags.order_by("opened_on", "id")
    ]


@dataclass(frozen=True)
class EvidenceRow:
    """A missed period behind a flag: as it was judged then, and its evaluation now (None:
    the period has no evaluation any more)."""

    period: Period
    value: float | None
    target: float
    evaluation: Evaluation | None

    @property
    def still_missed(self) -> bool:
        return self.evaluation is not None and self.evaluation.outcome == Evaluation.Outcome.MISSED


def flag_evidence(flag: CoachingFlag) -> list[EvidenceRow]:
    """Two queries: the evidence, and the current evaluations of its periods."""
    rows: list[FlagEvidence] = list(flag.evidence.all())
    current = {
        evaluation.period_start: evaluation
        for evaluation in Evaluation.objects.filter(
            agent_id=flag.agent_id,
            standard_id=flag.standard_id,
            period_start__in=[row.period_start for row in rows],
        )
    }
    return [
        EvidenceRow(
            period=period_containing(row.period_start, flag.standard.period),
            value=row.value,
            target=row.target,
            evaluation=current.get(row.period_start),
        )
        for row in rows
    ]
