"""Challenges as people see them: which ones they may open, and the standings (live until the
grace period ends, then the frozen results)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.access import teams_led_by
from performance.metrics import METRICS
from performance.models import Agent, Evaluation, Interaction, Team
from performance.roles import is_admin, is_agent
from rewards.models import SPENDING_KINDS, Badge, Challenge, ChallengeResult, PointsEntry


@dataclass(frozen=True)
class Standing:
    rank: int | None  # None: below the minimum sample, listed but not ranked
    agent: Agent | None  # individual challenges
    team: Team | None  # team challenges
    value: float | None
    sample: int
    prize_points: int = 0
    prize_badge: Badge | None = None
    reached_on: date | None = None  # first-to challenges: the day N was reached

    @property
    def name(self) -> str:
        return self.agent.display_name if self.agent else self.team.name


def challenges_visible_to(user: AbstractBaseUser) -> QuerySet[Challenge]:
    """Admins: all; leads: those of teams they lead; agents: their team's."""
    challenges = Challenge.objects.prefetch_related("teams", "prizes__badge")
    if is_admin(user):
        return challenges
    teams = Q(teams__in=teams_led_by(user))
    if is_agent(user):
        teams |= Q(teams=user.agent.team_id)
    return challenges.filter(teams).distinct()


def challenge_for_user_or_404(user: AbstractBaseUser, challenge_id: int) -> Challenge:
    challenge = challenges_visible_to(user).filter(pk=challenge_id).first()
    if challenge is None:
        raise Http404(_("No such challenge among those you may see."))
    return challenge


def challenge_today(challenge: Challenge) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(challenge.time_zone)).date()


def _window(challenge: Challenge) -> tuple[datetime, datetime]:
    zone = ZoneInfo(challenge.time_zone)
    start = datetime.combine(challenge.starts_on, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(challenge.ends_on + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start, end


def challenge_participants(challenge: Challenge) -> list[Agent]:
    return list(
        Agent.objects.filter(team__in=challenge.teams.all(), active=True)
        .select_related("user", "team")
        .order_by("team__name", "user__first_name", "user__username")
    )


def _first_to(
    challenge: Challenge, agents: list[Agent], key: Callable[[Agent], int]
) -> dict[int, tuple[float | None, int]]:
    """key -> (the day of the window the N-th exceeded period closed, 1 for the first, or
    None; the exceeded periods so far). Only closed periods inside the window count; a
    team's agents add up."""
    by_agent = {agent.pk: key(agent) for agent in agents}
    evaluations = Evaluation.objects.filter(
        agent_id__in=list(by_agent),
        outcome=Evaluation.Outcome.EXCEEDED,
        period_start__gte=challenge.starts_on,
        period_end__lte=min(challenge.ends_on + timedelta(days=1), challenge_today(challenge)),
    ).exclude(gate_passed=False)
    if challenge.standard_id is not None:
        evaluations = evaluations.filter(standard_id=challenge.standard_id)
    closed: dict[int, list[date]] = defaultdict(list)
    for agent_id, period_end in evaluations.values_list("agent_id", "period_end").order_by(
        "period_end"
    ):
        closed[by_agent[agent_id]].append(period_end)
    measures: dict[int, tuple[float | None, int]] = {}
    for owner in set(by_agent.values()):
        ends = closed.get(owner, [])
        reached = None
        if len(ends) >= challenge.target:
            reached = float((ends[challenge.target - 1] - challenge.starts_on).days)
        measures[owner] = (reached, len(ends))
    return measures


def _agent_measures(
    challenge: Challenge, agents: list[Agent]
) -> dict[int, tuple[float | None, int]]:
    """agent id -> (value, sample) over the window."""
    ids = [agent.pk for agent in agents]
    if challenge.measure == Challenge.Measure.FIRST_TO:
        return _first_to(challenge, agents, key=lambda agent: agent.pk)
    if challenge.measure == Challenge.Measure.POINTS:
        points = dict(
            PointsEntry.objects.filter(
                agent_id__in=ids,
                earned_on__gte=challenge.starts_on,
                earned_on__lte=challenge.ends_on,
            )
            .exclude(kind__in=[*SPENDING_KINDS, PointsEntry.Kind.CHALLENGE_PRIZE])
            .values_list("agent_id")
            .annotate(total=Sum("points"))
            .order_by()
        )
        return {agent_id: (float(points.get(agent_id, 0)), 0) for agent_id in ids}
    ratio = METRICS[challenge.metric].ratio(None, channel=challenge.channel)
    start, end = _window(challenge)
    aggregates = {"numerator": ratio.numerator, "sample": ratio.sample}
    if ratio.denominator is not None:
        aggregates["denominator"] = ratio.denominator
    rows = (
        Interaction.objects.filter(agent_id__in=ids, started_at__gte=start, started_at__lt=end)
        .values("agent_id")
        .annotate(**aggregates)
        .order_by()
    )
    found = {
        row["agent_id"]: (
            ratio.value(row["numerator"], row.get("denominator")),
            int(row["sample"] or 0),
        )
        for row in rows
    }
    return {agent_id: found.get(agent_id, (None, 0)) for agent_id in ids}


def _team_measures(
    challenge: Challenge, agents: list[Agent]
) -> dict[int, tuple[float | None, int]]:
    """team id -> (value, sample): points per active agent (sample: the agents), or the
    metric over all the team's interactions."""
    by_team: dict[int, list[Agent]] = defaultdict(list)
    for agent in agents:
        by_team[agent.team_id].append(agent)
    if challenge.measure == Challenge.Measure.FIRST_TO:
        return _first_to(challenge, agents, key=lambda agent: agent.team_id)
    if challenge.measure == Challenge.Measure.POINTS:
        measures = _agent_measures(challenge, agents)
        return {
            team_id: (
                float(Fraction(int(sum(measures[a.pk][0] for a in members)), len(members))),
                len(members),
            )
            for team_id, members in by_team.items()
        }
    ratio = METRICS[challenge.metric].ratio(None, channel=challenge.channel)
    start, end = _window(challenge)
    aggregates = {"numerator": ratio.numerator, "sample": ratio.sample}
    if ratio.denominator is not None:
        aggregates["denominator"] = ratio.denominator
    rows = (
        Interaction.objects.filter(
            agent__in=[agent.pk for agent in agents], started_at__gte=start, started_at__lt=end
        )
        .values("agent__team_id")
        .annotate(**aggregates)
        .order_by()
    )
    found = {
        row["agent__team_id"]: (
            ratio.value(row["numerator"], row.get("denominator")),
            int(row["sample"] or 0),
        )
        for row in rows
    }
    return {team_id: found.get(team_id, (None, 0)) for team_id in by_team}


def _ranked(
    challenge: Challenge, measures: dict[int, tuple[float | None, int]]
) -> dict[int, int | None]:
    """key -> shared rank (1, 2, 2, 4) among those that qualify, None for the others."""
    minimum = challenge.minimum_sample if challenge.measure == Challenge.Measure.METRIC else 0
    if challenge.kind == Challenge.Kind.TEAM and challenge.measure == Challenge.Measure.POINTS:
        minimum = challenge.minimum_sample
    if challenge.measure == Challenge.Measure.FIRST_TO:
        minimum = challenge.target
    qualified = [
        (value, key)
        for key, (value, sample) in measures.items()
        if value is not None and sample >= minimum
    ]
    qualified.sort(key=lambda pair: pair[0], reverse=not challenge.lower_is_better)
    ranks: dict[int, int | None] = {key: None for key in measures}
    previous, rank = None, 0
    for position, (value, key) in enumerate(qualified, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


def _standing_order(row: Standing) -> tuple:
    """Ranked first; then those not (yet) ranked, the closest to qualifying first."""
    if row.rank is None:
        return (1, -row.sample, row.name)
    return (0, row.rank, row.name)


def challenge_standings(challenge: Challenge) -> list[Standing]:
    """Ranked first (ties share a rank), then the participants below the minimum sample."""
    if challenge.finalized_at is not None:
        return _final_standings(challenge)
    prizes = {prize.place: prize for prize in challenge.prizes.all()}

    def standing(rank: int | None, agent: Agent | None, team: Team | None, measure) -> Standing:
        prize = prizes.get(rank or 0)
        value, sample = measure
        return Standing(
            rank,
            agent,
            team,
            value,
            sample,
            prize.points if prize else 0,
            prize.badge if prize else None,
            challenge.reached_on(value),
        )

    agents = challenge_participants(challenge)
    if challenge.kind == Challenge.Kind.TEAM:
        teams = {agent.team_id: agent.team for agent in agents}
        measures = _team_measures(challenge, agents)
        ranks = _ranked(challenge, measures)
        rows = [standing(ranks[key], None, teams[key], measures[key]) for key in measures]
    else:
        by_id = {agent.pk: agent for agent in agents}
        measures = _agent_measures(challenge, agents)
        ranks = _ranked(challenge, measures)
        rows = [standing(ranks[key], by_id[key], None, measures[key]) for key in measures]
    return sorted(rows, key=_standing_order)


def _final_standings(challenge: Challenge) -> list[Standing]:
    results = list(
        ChallengeResult.objects.filter(challenge=challenge).select_related(
            "agent__user", "agent__team", "team", "prize_badge"
        )
    )

    def standing(result: ChallengeResult, agent: Agent | None, team: Team | None) -> Standing:
        return Standing(
            result.rank,
            agent,
            team,
            result.value,
            result.sample,
            result.prize_points,
            result.prize_badge,
            challenge.reached_on(result.value),
        )

    if challenge.kind == Challenge.Kind.TEAM:
        seen: dict[int, Standing] = {}
        for result in results:
            seen.setdefault(result.team_id, standing(result, None, result.team))
        rows = list(seen.values())
    else:
        rows = [standing(result, result.agent, None) for result in results]
    return sorted(rows, key=_standing_order)
