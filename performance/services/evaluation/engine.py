"""The evaluation engine: every agent against every service standard, per period.

Evaluations are a pure function of facts, standard versions and period (DESIGN invariant 3):
grouped queries compute every standard's metric for every agent and period at once
(evaluation_measure); outcomes are decided here and upserted, and only rows whose judgement
changed are written (evaluation_store). A run that created, updated or deleted rows records
its scope as an EvaluationChange in the same transaction, which rewards and coaching consume
(see performance.signals).

The rows are the same whichever path computed them. Every run scores whole cells: a cell is
one standard's period (standard x period), and a run scores

- `evaluate_periods(since=, until=)` (the CLI, the nightly run, a rule's re-score with
  `standard_ids`): every period of every standard (and of the standards gating them) that
  holds a day in [since, until];
- `evaluate_touched_by_batch`: every period of every standard that holds a local day the
  batch created or changed facts on (whichever agents the facts belong to).

A scored cell holds exactly one row per agent in the standard's scope then (its teams; every
team when it has none): for active agents always (insufficient data when they had no
contacts), for inactive agents only where they have facts of the standard's channel; none at
all in a period the standard does not apply to (outside active_from .. active_until). Within
the cells it scored, a run deletes every stored row it did not produce, in the same
transaction (a standard's teams changed, an agent moved or was deactivated, the active dates
narrowed, the standard's period kind changed), and counts the deletions on its change. So a
batch's re-score, a rule change's re-score, the nightly run and `manage.py evaluate` leave the
same rows in the cells they share as a fresh evaluation into an empty table.

Team membership (performance.services.organisation): an agent's period is judged in the
team the agent belonged to on the period's first local day (its standards' team scope), and
each fact falls on the local day of the zone of the team the agent was in when it happened
(evaluation_measure), so a move keeps past periods where they were. An agent moved mid-week
finishes that week in the team it started it in; the new team judges from the next period.
Agents that never moved (nearly all) keep the fast path: their current team, one zone.

Speed (benchmarks/evaluation.py: a month of 5M facts, 1.5M evaluations): the facts are read
once for every standard; judgements are decided agent by agent in plain tuples and streamed
to the store, so memory does not grow with the number of rows written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, make_dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from performance.bulk import statistics_refresh
from performance.metrics import METRICS, Direction
from performance.models import (
    RULE_FIELDS,
    Agent,
    Evaluation,
    FeedBatchTouch,
    RuleFields,
    ServiceStandard,
    StandardVersion,
    TeamMembership,
)
from performance.periods import (
    Period,
    PeriodKind,
    local_midnight,
    period_containing,
    periods_between,
)
from performance.services.changes import evaluation_change_record
from performance.services.evaluation.measure import Measurements, measure
from performance.services.evaluation.store import JudgedRow, Scope, Span, evaluation_store

Outcome = Evaluation.Outcome
# Agents judged (and handed to the store) at a time: bounds the memory a run holds.
AGENT_CHUNK = 500
EXCEEDED, MET, MISSED, INSUFFICIENT_DATA = (
    Outcome.EXCEEDED.value,
    Outcome.MET.value,
    Outcome.MISSED.value,
    Outcome.INSUFFICIENT_DATA.value,
)


@dataclass(frozen=True)
class _RuleVersion:
    version_id: int | None
    number: int
    effective_from: date

    @classmethod
    def of(
        cls, source: RuleFields, *, version_id: int | None, number: int, effective_from: date
    ) -> Rule:
        """The rule `source` (a version, or a draft standard) holds, field by field."""
        return cls(
            version_id=version_id, number=number, effective_from=effective_from, **source.rule()
        )

    @classmethod
    def from_version(cls, version: StandardVersion) -> Rule:
        return cls.of(
            version,
            version_id=version.id,
            number=version.number,
            effective_from=version.effective_from,
        )


# One version of a standard's rule (or a draft being previewed: version_id None), with
# exactly the model's rule fields (quality_gate as quality_gate_id).
Rule = make_dataclass(
    "Rule",
    [(name, object) for name in RULE_FIELDS],
    bases=(_RuleVersion,),
    frozen=True,
    module=__name__,
)


@dataclass(eq=False)
class StandardPlan:
    """A standard as the engine sees it: scope, period, and its rule versions in order."""

    standard_id: int
    metric: str
    channel: str
    period: PeriodKind
    team_ids: frozenset[int]
    active_from: date
    active_until: date | None
    rules: list[Rule]

    def rule_for(self, period: Period) -> Rule:
        """The latest version effective on the period's first day (else the first one)."""
        chosen = self.rules[0]
        for rule in self.rules:
            if rule.effective_from <= period.start:
                chosen = rule
        return chosen

    def applies_to(self, period: Period) -> bool:
        if period.end <= self.active_from:
            return False
        return self.active_until is None or period.start <= self.active_until

    def thresholds(self) -> set[int | None]:
        return {rule.threshold_seconds for rule in self.rules}


@dataclass(frozen=True, slots=True)
class MembershipSpan:
    """One membership of an agent that moved: from local midnight of `starts_on` in its
    team's zone (the first one: from the beginning) to the next one's start."""

    starts_on: date
    team_id: int
    time_zone: str

    def starts_at(self) -> datetime:
        return local_midnight(self.starts_on, ZoneInfo(self.time_zone))


@dataclass(frozen=True)
class AgentScope:
    """An agent as the engine sees it: the current team and its zone, and for an agent that
    ever moved team, every membership in order (empty for the common agent that never did,
    whose every period is its current team's)."""

    agent_id: int
    team_id: int
    time_zone: str
    active: bool
    memberships: tuple[MembershipSpan, ...] = ()

    def team_on(self, day: date) -> int:
        """The team judging a period that starts on `day`: the membership covering it."""
        team_id = self.team_id
        if self.memberships:
            team_id = self.memberships[0].team_id
            for span in self.memberships:
                if span.starts_on > day:
                    break
                team_id = span.team_id
        return team_id

    def ever_in(self, team_ids: Collection[int]) -> bool:
        if not self.memberships:
            return self.team_id in team_ids
        return any(span.team_id in team_ids for span in self.memberships)


@dataclass(frozen=True)
class Judgement:
    version_id: int | None
    period_end: date
    value: float | None
    sample_size: int
    outcome: str
    gate_passed: bool | None
    points: int

    def row(self) -> tuple:
        return (
            self.version_id,
            self.period_end,
            self.value,
            self.sample_size,
            self.outcome,
            self.gate_passed,
            self.points,
        )


Key = tuple[int, int, date]  # agent, standard, period start
Cell = tuple[int, date]  # standard, period start
# Touched days further apart than this are measured apart (they share no period).
DAY_GROUP_GAP = 31


@dataclass
class EvaluationRun:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    changed_ids: list[int] = field(default_factory=list)
    change_id: int | None = None

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


# --- planning ------------------------------------------------------------------------------


def standard_plans(standard_ids: Collection[int] | None = None) -> list[StandardPlan]:
    """Plans for the given standards (all when None), the standards they gate (whose points
    follow their outcomes) and, always, the standards gating those."""
    standards = ServiceStandard.objects.prefetch_related("teams", "versions")
    wanted = {s.id: s for s in standards}
    if standard_ids is not None:
        keep = set(standard_ids)
        gated_by: dict[int, set[int]] = {}
        for standard in wanted.values():
            for version in standard.versions.all():
                if version.quality_gate_id:
                    gated_by.setdefault(version.quality_gate_id, set()).add(standard.id)
        frontier = list(keep)
        while frontier:
            for dependent in gated_by.get(frontier.pop(), ()):
                if dependent not in keep:
                    keep.add(dependent)
                    frontier.append(dependent)
        frontier = list(keep)
        while frontier:
            standard = wanted.get(frontier.pop())
            for version in standard.versions.all() if standard else []:
                if version.quality_gate_id and version.quality_gate_id not in keep:
                    keep.add(version.quality_gate_id)
                    frontier.append(version.quality_gate_id)
        wanted = {key: value for key, value in wanted.items() if key in keep}
    plans = []
    for standard in wanted.values():
        versions = sorted(standard.versions.all(), key=lambda v: (v.effective_from, v.number))
        if not versions:
            continue
        plans.append(
            StandardPlan(
                standard_id=standard.id,
                metric=standard.metric,
                channel=standard.channel,
                period=PeriodKind(standard.period),
                team_ids=frozenset(team.id for team in standard.teams.all()),
                active_from=standard.active_from,
                active_until=standard.active_until,
                rules=[Rule.from_version(version) for version in versions],
            )
        )
    return plans


def agent_scopes(agent_ids: Collection[int] | None = None) -> list[AgentScope]:
    """The agents (all when None) with their current team, and the memberships of those that
    ever moved: two queries, the second reading only moved agents' memberships."""
    agents = Agent.objects.all()
    memberships = TeamMembership.objects.filter(
        agent_id__in=TeamMembership.objects.filter(ends_on__isnull=False).values("agent_id")
    )
    if agent_ids is not None:
        wanted = list(agent_ids)
        agents = agents.filter(id__in=wanted)
        memberships = memberships.filter(agent_id__in=wanted)
    moved: dict[int, list[MembershipSpan]] = defaultdict(list)
    for agent_id, starts_on, team_id, zone in memberships.order_by(
        "agent_id", "starts_on"
    ).values_list("agent_id", "starts_on", "team_id", "team__time_zone"):
        moved[agent_id].append(MembershipSpan(starts_on, team_id, zone))
    return [
        AgentScope(agent_id, team_id, zone, active, tuple(moved.get(agent_id, ())))
        for agent_id, team_id, zone, active in agents.values_list(
            "id", "team_id", "team__time_zone", "active"
        )
    ]


# --- judging -------------------------------------------------------------------------------


def _judged_rows(
    plans: list[StandardPlan],
    agents: list[AgentScope],
    measurements: Measurements,
    *,
    since: date,
    until: date,
    only: set[Cell] | None,
) -> Iterator[list[JudgedRow]]:
    """Judgements as store rows, a chunk of agents at a time (`only`: just these cells).

    Below the minimum sample (or with no value) a period has insufficient data (0 points);
    beyond the stretch target it is exceeded, at the target met, else missed (ties meet, in
    the metric's direction), which costs the rule's penalty (0 by default). A quality gate
    keeps the outcome but takes a met or exceeded period's points away unless the gate
    standard was met or exceeded in the same period; a missed period keeps its penalty.
    This loop runs for every agent x standard x period, so it works on tuples and local
    names.
    """
    gate_ids = {rule.quality_gate_id for plan in plans for rule in plan.rules}
    steps = []
    for plan in plans:
        higher = METRICS[plan.metric].direction is Direction.HIGHER
        per_period = []
        for period in periods_between(since, until, plan.period):
            if not plan.applies_to(period):
                continue
            if only is not None and (plan.standard_id, period.start) not in only:
                continue
            rule = plan.rule_for(period)
            rows, reader = measurements.readers.get(
                (plan.standard_id, rule.threshold_seconds), ({}, None)
            )
            per_period.append((period.start, period.end, rule, rows, reader))
        steps.append((plan, higher, per_period, plan.standard_id in gate_ids))

    for chunk_start in range(0, len(agents), AGENT_CHUNK):
        chunk = agents[chunk_start : chunk_start + AGENT_CHUNK]
        judged: list[JudgedRow] = []
        gate_met: dict[Key, bool] = {}
        gated: list[tuple[int, Key]] = []
        for plan, higher, per_period, is_gate in steps:
            standard_id = plan.standard_id
            for agent in chunk:
                # An agent that moved is judged period by period in the team it was in on
                # the period's first day; every other one in its current team.
                moved = agent.memberships and plan.team_ids
                if plan.team_ids and not moved and agent.team_id not in plan.team_ids:
                    continue
                agent_id = agent.agent_id
                for start, end, rule, rows, reader in per_period:
                    if moved and agent.team_on(start) not in plan.team_ids:
                        continue
                    key = (agent_id, standard_id, start)
                    row = rows.get((agent_id, start))
                    if row is None or (reader.presence is not None and not row[reader.presence]):
                        if not agent.active:
                            continue
                        value, sample = None, 0
                    else:
                        value, sample = reader.read(row)
                    if value is None or sample < rule.min_sample:
                        outcome, points = INSUFFICIENT_DATA, 0
                    elif rule.stretch_target is not None and (
                        value >= rule.stretch_target if higher else value <= rule.stretch_target
                    ):
                        outcome, points = EXCEEDED, rule.points_exceeded
                    elif value >= rule.target if higher else value <= rule.target:
                        outcome, points = MET, rule.points_met
                    else:
                        outcome, points = MISSED, -rule.points_missed_penalty
                    if is_gate:
                        gate_met[key] = outcome in (MET, EXCEEDED)
                    if rule.quality_gate_id is not None:
                        gated.append((len(judged), (agent_id, rule.quality_gate_id, start)))
                    judged.append(
                        (
                            agent_id,
                            standard_id,
                            start,
                            rule.version_id,
                            end,
                            value,
                            sample,
                            outcome,
                            None,
                            points,
                        )
                    )
        # Speed never pays when quality fails: points stand only if the gate was met. A
        # missed period keeps its penalty whatever the gate: the gate takes away what a
        # period earns, it does not excuse a miss (nor add one: met behind a failed gate
        # earns 0, never a penalty).
        for position, gate_key in gated:
            passed = gate_met.get(gate_key, False)
            row = judged[position]
            keeps = passed or row[7] == MISSED
            judged[position] = (*row[:8], passed, row[9] if keeps else 0)
        yield judged


def compute_judgements(
    plans: list[StandardPlan],
    agents: list[AgentScope],
    *,
    since: date,
    until: date,
    restrict_agents: bool = False,
    only: set[Cell] | None = None,
) -> dict[Key, Judgement]:
    """Every judgement for the agents x standards x periods touching [since, until].

    Active agents get a row for every period (insufficient data when they had no contacts);
    inactive ones only for periods with data. `only` keeps just those (standard, period
    start) cells. Nothing is written.
    """
    measurements = measure(plans, agents, since=since, until=until, restrict_agents=restrict_agents)
    return {
        (row[0], row[1], row[2]): Judgement(*row[3:])
        for chunk in _judged_rows(plans, agents, measurements, since=since, until=until, only=only)
        for row in chunk
    }


# --- writing -------------------------------------------------------------------------------


def evaluate_periods(
    *,
    since: date,
    until: date,
    agent_ids: Collection[int] | None = None,
    standard_ids: Collection[int] | None = None,
    days: Collection[date] | None = None,
    batch_id: int | None = None,
) -> EvaluationRun:
    """(Re)evaluate every period of every standard that contains a day in [since, until].

    With `days`, only the periods containing those days are scored (`batch_id`: the feed
    batch they come from). Each scored period is scored whole, for every agent (or those of
    `agent_ids`): rows are upserted, only changed judgements are written, the period's rows
    the run did not produce are deleted, and what changed is recorded as one EvaluationChange.
    """
    run = EvaluationRun()
    plans = standard_plans(standard_ids)
    if not plans:
        return run
    agents = agent_scopes(agent_ids)
    restrict = agent_ids is not None
    if days is None:
        groups = [(since, until, None)]
        periods = {
            plan.standard_id: list(periods_between(since, until, plan.period)) for plan in plans
        }
    else:
        groups = _day_groups(plans, days)
        periods = {
            plan.standard_id: sorted({period_containing(day, plan.period) for day in days})
            for plan in plans
        }

    # Measured before the store starts writing: on PostgreSQL the connection is then busy
    # with the COPY the judged rows stream into.
    measured = [
        (
            first,
            last,
            only,
            measure(plans, agents, since=first, until=last, restrict_agents=restrict),
        )
        for first, last, only in groups
    ]
    chunks = (
        chunk
        for first, last, only, measurements in measured
        for chunk in _judged_rows(plans, agents, measurements, since=first, until=last, only=only)
    )
    scope = Scope(
        spans=tuple(
            Span(standard_id, first, end)
            for standard_id, standard_periods in periods.items()
            for first, end in _contiguous(standard_periods)
        ),
        agent_ids=None if agent_ids is None else tuple(agent.agent_id for agent in agents),
    )
    earliest = min(standard_periods[0].start for standard_periods in periods.values())
    latest = max(standard_periods[-1].start for standard_periods in periods.values())
    with transaction.atomic():
        written = evaluation_store().write(chunks, scope=scope, now=timezone.now())
        run.created, run.updated, run.unchanged, run.deleted = (
            len(written.created_ids),
            len(written.updated_ids),
            written.unchanged,
            written.deleted,
        )
        run.changed_ids = [*written.created_ids, *written.updated_ids]
        statistics_refresh(Evaluation, len(written.created_ids))
        if run.changed_ids or run.deleted:
            if written.deleted_starts is not None:
                earliest = min(earliest, written.deleted_starts[0])
                latest = max(latest, written.deleted_starts[1])
            run.change_id = evaluation_change_record(
                first_period_start=earliest,
                last_period_start=latest,
                standard_ids=None if standard_ids is None else [p.standard_id for p in plans],
                # A run over some periods or some agents names the agents whose rows it
                # changed, so subscribers reconcile those, not every agent.
                agent_ids=None if agent_ids is None and days is None else written.agent_ids,
                batch_id=batch_id,
                created=run.created,
                updated=run.updated,
                deleted=run.deleted,
            ).id
    return run


def _day_groups(
    plans: list[StandardPlan], days: Collection[date]
) -> list[tuple[date, date, set[Cell]]]:
    """The days in runs measured together, with the cells each run scores: days far apart
    (a correction months old beside today's contacts) are not measured as one range."""
    groups: list[list[date]] = []
    for day in sorted(set(days)):
        if groups and (day - groups[-1][-1]).days <= DAY_GROUP_GAP:
            groups[-1].append(day)
        else:
            groups.append([day])
    return [
        (
            group[0],
            group[-1],
            {
                (plan.standard_id, period_containing(day, plan.period).start)
                for day in group
                for plan in plans
            },
        )
        for group in groups
    ]


def _contiguous(periods: list[Period]) -> Iterator[tuple[date, date]]:
    """[first, end) spans of consecutive periods (given in order)."""
    first = end = None
    for period in periods:
        if end is not None and period.start <= end:
            end = max(end, period.end)
            continue
        if end is not None:
            yield first, end
        first, end = period.start, period.end
    if end is not None:
        yield first, end


def evaluate_touched_by_batch(*, batch_id: int) -> EvaluationRun:
    """Re-score, whole, the periods holding the local days a feed batch created or changed
    facts on."""
    days = set(
        FeedBatchTouch.objects.filter(batch_id=batch_id)
        .values_list("local_date", flat=True)
        .distinct()
    )
    if not days:
        return EvaluationRun()
    return evaluate_periods(since=min(days), until=max(days), days=days, batch_id=batch_id)
