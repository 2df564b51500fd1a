"""Reads that span relations: scorecards, trends, heatmaps and the facts behind a number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from performance.metrics import METRICS, Metric
from performance.models import Agent, Evaluation, Interaction, ServiceStandard, Team
from performance.periods import Period, PeriodKind, last_complete_period, period_containing

TREND_PERIODS = 12


def standards_for_team(team: Team, *, on: date | None = None) -> list[ServiceStandard]:
    """The standards that apply to a team's agents (on a day, when given)."""
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
    """Each standard of the agent's team, judged for its period containing `day` (without a
    day: its last complete period), with the last TREND_PERIODS periods of history. `today`
    is the local date in the team's zone."""
    standards = standards_for_team(
        agent.team, on=day or last_complete_period(PeriodKind.DAY, today=today).start
    )
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
    zone = ZoneInfo(evaluation.agent.team.time_zone)
    period = period_containing(evaluation.period_start, standard.period)
    start, end = period.bounds(zone)
    ratio = METRICS[standard.metric].ratio(
        evaluation.version.threshold_seconds, channel=standard.channel
    )
    return Interaction.objects.filter(
        ratio.rows, agent_id=evaluation.agent_id, started_at__gte=start, started_at__lt=end
    ).order_by("started_at", "id")


@dataclass(frozen=True)
class Heatmap:
    period: Period
    standards: list[ServiceStandard]
    rows: list[tuple[Agent, list[Evaluation | None]]]


def team_heatmap(
    teams: Iterable[Team], *, kind: PeriodKind | str, day: date, channel: str = ""
) -> Heatmap:
    """Agents of `teams` x the standards of one period kind (and channel) for the period
    containing `day`: three queries whatever the size."""
    period = period_containing(day, kind)
    teams = list(teams)
    agents = list(
        Agent.objects.filter(team__in=teams, active=True)
        .select_related("user", "team")
        .order_by("team__name", "user__first_name", "user__last_name", "user__username")
    )
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
        agent__in=agents, standard__in=standards, period_start=period.start
    ).select_related("version"):
        by_agent[evaluation.agent_id][evaluation.standard_id] = evaluation
    return Heatmap(
        period=period,
        standards=standards,
        rows=[(agent, [by_agent[agent.id].get(s.id) for s in standards]) for agent in agents],
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


def heatmap_cells(heatmap: Heatmap) -> list[tuple[Agent, list[HeatmapCell]]]:
    """The heatmap's rows with each evaluation beside its standard, and whether the standard
    covers the agent's team at all (a blank cell then means 'does not apply', not 'missing')."""
    scopes = {s.id: {team.id for team in s.teams.all()} for s in heatmap.standards}
    return [
        (
            agent,
            [
                HeatmapCell(
                    standard=standard,
                    evaluation=evaluation,
                    applies=not scopes[standard.id] or agent.team_id in scopes[standard.id],
                )
                for standard, evaluation in zip(heatmap.standards, evaluations, strict=True)
            ],
        )
        for agent, evaluations in heatmap.rows
    ]


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
