"""Reads that span relations: scorecards, trends, heatmaps and the facts behind a number;
and what the apps deriving from evaluations share (which periods are closed for an agent,
which outcomes earn a standard)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from performance.metrics import METRICS, Metric
from performance.models import (
    MEMBERSHIP_ORIGIN,
    Agent,
    Evaluation,
    Interaction,
    ServiceStandard,
    Team,
    TeamMembership,
)
from performance.periods import (
    Period,
    PeriodKind,
    last_complete_period,
    local_midnight,
    period_containing,
)

TREND_PERIODS = 12

EARNING_OUTCOMES = frozenset({Evaluation.Outcome.MET, Evaluation.Outcome.EXCEEDED})


def earns(outcome: str, gate_passed: bool | None) -> bool | None:
    """Whether a closed period earns its standard: True (met or exceeded, gate not failed),
    False (missed, or the quality gate failed) or None (insufficient data: it neither counts
    for nor against). Streaks (rewards) and coaching flags (coaching) read periods so."""
    if gate_passed is False or outcome == Evaluation.Outcome.MISSED:
        return False
    if outcome in EARNING_OUTCOMES:
        return True
    return None


@dataclass(frozen=True)
class LocalTodaySpan:
    """From `first` up to `until` (exclusive), periods of the agent are judged by `today`,
    today's date in the zone of the team the agent was in then."""

    agent_id: int
    first: date
    until: date
    today: date


def local_today_spans(agent_ids: Iterable[int]) -> list[LocalTodaySpan]:
    """Each agent's memberships as spans of days sharing one local today, covering every
    day (the first from date.min; an agent without a team: settings.TIME_ZONE), in agent and
    day order: what set-based readers join evaluations to. One query for all the agents."""
    agent_ids = sorted(set(agent_ids))
    memberships: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for agent_id, starts_on, zone in (
        TeamMembership.objects.filter(agent_id__in=agent_ids)
        .order_by("agent_id", "starts_on")
        .values_list("agent_id", "starts_on", "team__time_zone")
    ):
        memberships[agent_id].append((starts_on, zone))
    now = timezone.now()
    today_in: dict[str, date] = {}

    def today(zone: str) -> date:
        if zone not in today_in:
            today_in[zone] = timezone.localtime(now, ZoneInfo(zone)).date()
        return today_in[zone]

    spans = []
    for agent_id in agent_ids:
        held = memberships.get(agent_id) or [(date.min, settings.TIME_ZONE)]
        # Days before the first membership (before MEMBERSHIP_ORIGIN) belong to it.
        starts = [date.min, *(starts_on for starts_on, _ in held[1:])]
        untils = [*starts[1:], date.max]
        spans.extend(
            LocalTodaySpan(agent_id, first, until, today(zone))
            for first, until, (_, zone) in zip(starts, untils, held, strict=True)
        )
    return spans


def local_today_resolver(agent_ids: Iterable[int]) -> Callable[[int, date], date]:
    """today(agent_id, day): today's date in the zone of the agent's team on `day` (a period
    whose end is on or before it is closed for that agent). One query for all the agents."""
    return today_resolver(local_today_spans(agent_ids))


def today_resolver(spans: Iterable[LocalTodaySpan]) -> Callable[[int, date], date]:
    """local_today_resolver over spans already read; an agent without one: settings' zone."""
    firsts: dict[int, list[date]] = defaultdict(list)
    todays: dict[int, list[date]] = defaultdict(list)
    for span in spans:
        firsts[span.agent_id].append(span.first)
        todays[span.agent_id].append(span.today)
    default_today = timezone.localtime(timezone.now(), ZoneInfo(settings.TIME_ZONE)).date()

    def today(agent_id: int, day: date) -> date:
        if agent_id not in firsts:
            return default_today
        return todays[agent_id][bisect.bisect_right(firsts[agent_id], day) - 1]

    return today


def team_of_agent_on(agent: Agent, day: date) -> Subquery:
    """The id of the team `agent` was in on `day` (before its first membership: the first
    one), as a subquery to filter by without a query of its own."""
    return Subquery(
        TeamMembership.objects.filter(agent=agent, starts_on__lte=max(day, MEMBERSHIP_ORIGIN))
        .order_by("-starts_on")
        .values("team_id")[:1]
    )


def standards_for_team(team: Team | Subquery, *, on: date | None = None) -> list[ServiceStandard]:
    """The standards that apply to a team's agents (on a day, when given); `team` may be
    a subquery naming it (team_of_agent_on)."""
    standards = ServiceStandard.objects.filter(Q(teams=team) | Q(teams__isnull=True)).distinct()
    if on is not None:
        standards = standards.filter(active_from__lte=on).filter(
            Q(active_until__isnull=True) | Q(active_until__gte=on)
        )
    return list(standards.select_related("quality_gate").order_by("period", "name"))


@dataclass(frozen=True)
class ScorecardRow:
    standard: ServiceStandard
    metric: Metric
    period: Period
    evaluation: Evaluation | None
    trend: list[tuple[Period, Evaluation | None]]
    in_progress: bool  # the period is still under way: its outcome may change

    @property
    def gate_passed(self) -> bool | None:
        """Whether the quality gate was met, where that matters: None without a gate, and
        when the standard had too little data of its own to earn points anyway."""
        evaluation = self.evaluation
        if evaluation is None or evaluation.outcome == Evaluation.Outcome.INSUFFICIENT_DATA:
            return None
        return evaluation.gate_passed


def agent_scorecard(agent: Agent, *, day: date | None, today: date) -> list[ScorecardRow]:
    """Each standard of the agent's team on `day`, judged for its period containing `day` (without a
    day: its last complete period), with the last TREND_PERIODS periods of history. `today`
    is the local date in the team's zone."""
    # The standards of the team the agent was in on that day: an agent who moved keeps the
    # history judged in the old team, under the old team's standards.
    on = day or last_complete_period(PeriodKind.DAY, today=today).start
    standards = standards_for_team(team_of_agent_on(agent, on), on=on)
    if not standards:
        return []
    periods = {
        s.id: period_containing(day, s.period)
        if day is not None
        else last_complete_period(s.period, today=today)
        for s in standards
    }
    history: dict[int, list[Period]] = {}
    for standard in standards:
        span = [periods[standard.id]]
        while len(span) < TREND_PERIODS:
            span.insert(0, span[0].previous())
        history[standard.id] = span
    earliest = min(span[0].start for span in history.values())
    latest = max(period.start for period in periods.values())
    found = {
        (e.standard_id, e.period_start): e
        for e in Evaluation.objects.filter(
            agent=agent,
            standard__in=standards,
            period_start__gte=earliest,
            period_start__lte=latest,
        ).select_related("version", "version__quality_gate")
    }
    return [
        ScorecardRow(
            standard=standard,
            metric=METRICS[standard.metric],
            period=periods[standard.id],
            evaluation=found.get((standard.id, periods[standard.id].start)),
            trend=[(p, found.get((standard.id, p.start))) for p in history[standard.id]],
            in_progress=not periods[standard.id].is_complete(today),
        )
        for standard in standards
    ]


def evaluation_interactions(evaluation: Evaluation) -> QuerySet[Interaction]:
    """The interactions behind an evaluation: the agent's, in the period (in the team's
    zone), that the metric reads for the standard's channel and threshold (Ratio.rows)."""
    standard = evaluation.standard
    period = period_containing(evaluation.period_start, standard.period)
    ratio = METRICS[standard.metric].ratio(
        evaluation.version.threshold_seconds, channel=standard.channel
    )
    within = Q()
    for start, end in agent_period_instants(evaluation.agent, period):
        within |= Q(started_at__gte=start, started_at__lt=end)
    return Interaction.objects.filter(ratio.rows, within, agent_id=evaluation.agent_id).order_by(
        "started_at", "id"
    )


def agent_period_instants(agent: Agent, period: Period) -> list[tuple[datetime, datetime]]:
    """The instants whose facts fall in `period` for `agent`, as the engine counts them:
    each fact's local day in the zone of the team the agent was in at that time (one range
    for an agent that never moved; one per membership reaching into the period otherwise)."""
    # Two days either side: zones are less than that apart, so a membership ending just
    # before the period may still hold facts whose local day is in it.
    memberships = list(
        TeamMembership.objects.filter(agent=agent, starts_on__lt=period.end + timedelta(days=2))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=period.start - timedelta(days=2)))
        .select_related("team")
        .order_by("starts_on")
    )
    if not memberships:
        return [period.bounds(ZoneInfo(agent.team.time_zone))]
    ranges = []
    for index, membership in enumerate(memberships):
        zone = ZoneInfo(membership.team.time_zone)
        start, end = period.bounds(zone)
        if membership.starts_on > MEMBERSHIP_ORIGIN:
            start = max(start, local_midnight(membership.starts_on, zone))
        if index + 1 < len(memberships):
            following = memberships[index + 1]
            end = min(end, local_midnight(following.starts_on, ZoneInfo(following.team.time_zone)))
        if start < end:
            ranges.append((start, end))
    return ranges


@dataclass(frozen=True)
class HeatmapMember:
    """An agent as a heatmap shows them: in the team they were in for the period, and where
    they went if they left it since (`moved_to` on `moved_on`)."""

    agent: Agent
    team: Team
    moved_to: Team | None = None
    moved_on: date | None = None


@dataclass(frozen=True)
class Heatmap:
    period: Period
    standards: list[ServiceStandard]
    rows: list[tuple[HeatmapMember, list[Evaluation | None]]]


def team_heatmap(
    teams: Iterable[Team], *, kind: PeriodKind | str, day: date, channel: str = ""
) -> Heatmap:
    """The agents who were in `teams` for the period containing `day` (the membership
    covering its first day: the team that judged that period) x the standards of one period
    kind (and channel): three queries whatever the size, a fourth when some of those agents
    have moved to another team since."""
    period = period_containing(day, kind)
    teams = list(teams)
    first_day = max(period.start, MEMBERSHIP_ORIGIN)
    memberships = list(
        TeamMembership.objects.filter(team__in=teams, starts_on__lte=first_day, agent__active=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=first_day))
        .select_related("agent__user", "agent__team", "team")
        .order_by(
            "team__name",
            "agent__user__first_name",
            "agent__user__last_name",
            "agent__user__username",
        )
    )
    moved = {m.agent_id: m.ends_on for m in memberships if m.ends_on is not None}
    following: dict[int, Team] = {}
    if moved:
        for later in TeamMembership.objects.filter(
            agent_id__in=list(moved), starts_on__in=set(moved.values())
        ).select_related("team"):
            if moved[later.agent_id] == later.starts_on:
                following[later.agent_id] = later.team
    members = [
        HeatmapMember(
            agent=m.agent,
            team=m.team,
            moved_to=following.get(m.agent_id),
            moved_on=m.ends_on,
        )
        for m in memberships
    ]
    standards = (
        ServiceStandard.objects.filter(period=PeriodKind(kind).value)
        .filter(Q(teams__in=teams) | Q(teams__isnull=True))
        .filter(active_from__lt=period.end)
        .filter(Q(active_until__isnull=True) | Q(active_until__gte=period.start))
        .distinct()
        .order_by("name")
    )
    if channel:
        standards = standards.filter(Q(channel=channel) | Q(channel=""))
    standards = list(standards.prefetch_related("teams"))
    by_agent: dict[int, dict[int, Evaluation]] = defaultdict(dict)
    for evaluation in Evaluation.objects.filter(
        agent__in=[member.agent for member in members],
        standard__in=standards,
        period_start=period.start,
    ).select_related("version"):
        by_agent[evaluation.agent_id][evaluation.standard_id] = evaluation
    return Heatmap(
        period=period,
        standards=standards,
        rows=[
            (member, [by_agent[member.agent.id].get(s.id) for s in standards]) for member in members
        ],
    )


@dataclass(frozen=True)
class HeatmapCell:
    standard: ServiceStandard
    evaluation: Evaluation | None
    applies: bool


@dataclass(frozen=True)
class HeatmapTally:
    """How one standard's column of a heatmap came out."""

    standard: ServiceStandard
    evaluated: int
    passed: int
    missed: int
    insufficient: int


@dataclass(frozen=True)
class HeatmapLine:
    member: HeatmapMember
    cells: list[HeatmapCell]
    # Whether the viewer may open the agent's scorecard: not the old lead of an agent who
    # has moved to a team they do not lead.
    linked: bool


def heatmap_cells(
    heatmap: Heatmap, *, openable: Collection[int] | None = None
) -> list[HeatmapLine]:
    """The heatmap's rows with each evaluation beside its standard, and whether the standard
    covers the agent's team of the period at all (a blank cell then means 'does not apply',
    not 'missing'). `openable`: the agents who moved away whose scorecard the viewer may
    open (None: all); those who did not move are the viewer's own team's."""
    scopes = {s.id: {team.id for team in s.teams.all()} for s in heatmap.standards}
    return [
        HeatmapLine(
            member=member,
            cells=[
                HeatmapCell(
                    standard=standard,
                    evaluation=evaluation,
                    applies=not scopes[standard.id] or member.team.id in scopes[standard.id],
                )
                for standard, evaluation in zip(heatmap.standards, evaluations, strict=True)
            ],
            linked=(member.moved_on is None or openable is None or member.agent.id in openable),
        )
        for member, evaluations in heatmap.rows
    ]


def heatmap_moved_agent_ids(heatmap: Heatmap) -> list[int]:
    """The agents of a heatmap who have left the team they are shown in."""
    return [member.agent.id for member, _ in heatmap.rows if member.moved_on is not None]


def heatmap_tallies(heatmap: Heatmap) -> list[HeatmapTally]:
    passing = (Evaluation.Outcome.MET, Evaluation.Outcome.EXCEEDED)
    tallies = []
    for column, standard in enumerate(heatmap.standards):
        outcomes = [row[column].outcome for _, row in heatmap.rows if row[column] is not None]
        tallies.append(
            HeatmapTally(
                standard=standard,
                evaluated=len(outcomes),
                passed=sum(outcome in passing for outcome in outcomes),
                missed=outcomes.count(Evaluation.Outcome.MISSED),
                insufficient=outcomes.count(Evaluation.Outcome.INSUFFICIENT_DATA),
            )
        )
    return tallies
