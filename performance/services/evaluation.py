"""The evaluation engine: every agent against every service standard, per period.

Evaluations are a pure function of facts, standard versions and period (DESIGN invariant 3):
one grouped query per (period kind, channel, time zone) computes every standard's metric for
every agent and period at once; outcomes are decided here and upserted, and only rows whose
judgement changed are written. The ids of changed rows go out in `evaluations_changed` after
commit, for rewards and coaching.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import DateField
from django.db.models.functions import Trunc
from django.utils import timezone

from performance.metrics import METRICS
from performance.models import (
    Agent,
    Evaluation,
    FeedBatchTouch,
    Interaction,
    ServiceStandard,
    StandardVersion,
)
from performance.periods import Period, PeriodKind, period_containing, periods_between
from performance.signals import evaluations_changed

Outcome = Evaluation.Outcome
VALUE_DECIMALS = 6
WRITE_BATCH = 5000


@dataclass(frozen=True)
class Rule:
    """One version of a standard's rule (or a draft being previewed: version_id None)."""

    version_id: int | None
    number: int
    effective_from: date
    target: float
    stretch_target: float | None
    threshold_seconds: int | None
    min_sample: int
    points_met: int
    points_exceeded: int
    quality_gate_id: int | None

    @classmethod
    def from_version(cls, version: StandardVersion) -> Rule:
        return cls(
            version_id=version.id,
            number=version.number,
            effective_from=version.effective_from,
            target=version.target,
            stretch_target=version.stretch_target,
            threshold_seconds=version.threshold_seconds,
            min_sample=version.min_sample,
            points_met=version.points_met,
            points_exceeded=version.points_exceeded,
            quality_gate_id=version.quality_gate_id,
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

    def covers(self, team_id: int) -> bool:
        return not self.team_ids or team_id in self.team_ids

    def thresholds(self) -> set[int | None]:
        return {rule.threshold_seconds for rule in self.rules}


@dataclass(frozen=True)
class AgentScope:
    agent_id: int
    team_id: int
    time_zone: str
    active: bool


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


@dataclass
class EvaluationRun:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


# --- planning ------------------------------------------------------------------------------


def standard_plans(standard_ids: Collection[int] | None = None) -> list[StandardPlan]:
    """Plans for the given standards (all when None) and, always, the standards gating them."""
    standards = ServiceStandard.objects.prefetch_related("teams", "versions")
    wanted = {s.id: s for s in standards}
    if standard_ids is not None:
        keep = set(standard_ids)
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
    agents = Agent.objects.all()
    if agent_ids is not None:
        agents = agents.filter(id__in=list(agent_ids))
    return [
        AgentScope(agent_id, team_id, zone, active)
        for agent_id, team_id, zone, active in agents.values_list(
            "id", "team_id", "team__time_zone", "active"
        )
    ]


# --- computing -----------------------------------------------------------------------------


def _alias(plan: StandardPlan, threshold: int | None, part: str) -> str:
    return f"s{plan.standard_id}_t{threshold or 0}_{part}"


def measure(
    plans: list[StandardPlan],
    agents: list[AgentScope],
    *,
    since: date,
    until: date,
    restrict_agents: bool,
) -> dict[tuple[int, int, int | None, date], tuple[float | None, int]]:
    """(agent, standard, threshold, period start) -> (value, sample size), from grouped
    queries: one per (period kind, channel, time zone)."""
    by_zone: dict[str, list[AgentScope]] = defaultdict(list)
    for agent in agents:
        by_zone[agent.time_zone].append(agent)
    groups: dict[tuple[PeriodKind, str], list[StandardPlan]] = defaultdict(list)
    for plan in plans:
        groups[(plan.period, plan.channel)].append(plan)

    measured: dict[tuple[int, int, int | None, date], tuple[float | None, int]] = {}
    for (kind, channel), group in groups.items():
        first, last = period_containing(since, kind), period_containing(until, kind)
        ratios = {
            (plan, threshold): METRICS[plan.metric].aggregates(threshold)
            for plan in group
            for threshold in plan.thresholds()
        }
        aggregates = {}
        for (plan, threshold), ratio in ratios.items():
            aggregates[_alias(plan, threshold, "n")] = ratio.numerator
            aggregates[_alias(plan, threshold, "s")] = ratio.sample
            if ratio.denominator is not None:
                aggregates[_alias(plan, threshold, "d")] = ratio.denominator
        for zone_name, zone_agents in by_zone.items():
            zone = ZoneInfo(zone_name)
            facts = Interaction.objects.filter(
                started_at__gte=first.bounds(zone)[0], started_at__lt=last.bounds(zone)[1]
            )
            if channel:
                facts = facts.filter(channel=channel)
            if restrict_agents:
                facts = facts.filter(agent_id__in=[a.agent_id for a in zone_agents])
            else:
                facts = facts.filter(agent__team__time_zone=zone_name)
            rows = (
                facts.annotate(
                    period_start=Trunc(
                        "started_at", kind.value, output_field=DateField(), tzinfo=zone
                    )
                )
                .values("agent_id", "period_start")
                .annotate(**aggregates)
                .order_by()
            )
            for row in rows:
                for (plan, threshold), ratio in ratios.items():
                    value = ratio.value(
                        row[_alias(plan, threshold, "n")], row.get(_alias(plan, threshold, "d"))
                    )
                    if value is not None:
                        value = round(value, VALUE_DECIMALS)
                    measured[
                        (row["agent_id"], plan.standard_id, threshold, row["period_start"])
                    ] = (
                        value,
                        row[_alias(plan, threshold, "s")],
                    )
    return measured


def judge(rule: Rule, metric_key: str, value: float | None, sample: int) -> tuple[str, int]:
    """Outcome and points before any quality gate."""
    metric = METRICS[metric_key]
    if value is None or sample < rule.min_sample:
        return Outcome.INSUFFICIENT_DATA, 0
    if rule.stretch_target is not None and metric.beats(value, rule.stretch_target):
        return Outcome.EXCEEDED, rule.points_exceeded
    if metric.beats(value, rule.target):
        return Outcome.MET, rule.points_met
    return Outcome.MISSED, 0


def compute_judgements(
    plans: list[StandardPlan],
    agents: list[AgentScope],
    *,
    since: date,
    until: date,
    restrict_agents: bool = False,
    only: set[tuple[int, int, date]] | None = None,
) -> dict[Key, Judgement]:
    """Every judgement for the agents x standards x periods touching [since, until].

    Active agents get a row for every period (insufficient data when they had no contacts);
    inactive ones only for periods with data. `only` keeps just those (agent, standard,
    period start) keys. Nothing is written.
    """
    measured = measure(plans, agents, since=since, until=until, restrict_agents=restrict_agents)
    with_data = {(a, s, p) for a, s, _, p in measured}
    judgements: dict[Key, Judgement] = {}
    raw_points: dict[Key, tuple[int, Rule]] = {}
    for plan in plans:
        periods = [p for p in periods_between(since, until, plan.period) if plan.applies_to(p)]
        for agent in agents:
            if not plan.covers(agent.team_id):
                continue
            for period in periods:
                key = (agent.agent_id, plan.standard_id, period.start)
                if only is not None and key not in only:
                    continue
                if not agent.active and key not in with_data:
                    continue
                rule = plan.rule_for(period)
                value, sample = measured.get(
                    (agent.agent_id, plan.standard_id, rule.threshold_seconds, period.start),
                    (None, 0),
                )
                outcome, points = judge(rule, plan.metric, value, sample)
                raw_points[key] = (points, rule)
                judgements[key] = Judgement(
                    rule.version_id, period.end, value, sample, outcome, None, points
                )
    for key, (points, rule) in raw_points.items():
        if rule.quality_gate_id is None:
            continue
        agent_id, _, period_start = key
        gate = judgements.get((agent_id, rule.quality_gate_id, period_start))
        passed = gate is not None and gate.outcome in (Outcome.MET, Outcome.EXCEEDED)
        current = judgements[key]
        judgements[key] = Judgement(
            current.version_id,
            current.period_end,
            current.value,
            current.sample_size,
            current.outcome,
            passed,
            points if passed else 0,
        )
    return judgements


# --- writing -------------------------------------------------------------------------------


def evaluate_periods(
    *,
    since: date,
    until: date,
    agent_ids: Collection[int] | None = None,
    standard_ids: Collection[int] | None = None,
    touched: Iterable[tuple[int, date]] | None = None,
) -> EvaluationRun:
    """(Re)evaluate every period of every standard that contains a day in [since, until].

    With `touched` (agent, local date) pairs, only the periods containing them are scored.
    Rows are upserted; only changed judgements are written and announced.
    """
    plans = standard_plans(standard_ids)
    agents = agent_scopes(agent_ids)
    only = None
    if touched is not None:
        only = {
            (agent_id, plan.standard_id, period_containing(day, plan.period).start)
            for agent_id, day in touched
            for plan in plans
        }
    judgements = compute_judgements(
        plans,
        agents,
        since=since,
        until=until,
        restrict_agents=agent_ids is not None,
        only=only,
    )
    return _store(judgements, plans, agents, since=since, until=until)


def evaluate_touched_by_batch(*, batch_id: int) -> EvaluationRun:
    """Re-score exactly the periods a feed batch created or changed facts in."""
    touched = list(
        FeedBatchTouch.objects.filter(batch_id=batch_id).values_list("agent_id", "local_date")
    )
    if not touched:
        return EvaluationRun()
    days = [day for _, day in touched]
    return evaluate_periods(
        since=min(days),
        until=max(days),
        agent_ids={agent_id for agent_id, _ in touched},
        touched=touched,
    )


def _store(
    judgements: dict[Key, Judgement],
    plans: list[StandardPlan],
    agents: list[AgentScope],
    *,
    since: date,
    until: date,
) -> EvaluationRun:
    run = EvaluationRun()
    if not judgements:
        return run
    earliest = min(period_containing(since, plan.period).start for plan in plans)
    latest = max(period_containing(until, plan.period).start for plan in plans)
    existing_rows = Evaluation.objects.filter(
        standard_id__in=[plan.standard_id for plan in plans],
        period_start__gte=earliest,
        period_start__lte=latest,
    )
    agent_ids = {key[0] for key in judgements}
    if len(agent_ids) < len(agents) or len(agent_ids) <= 500:
        existing_rows = existing_rows.filter(agent_id__in=list(agent_ids))
    existing: dict[Key, tuple[int, tuple]] = {}
    for row in existing_rows.values_list(
        "id",
        "agent_id",
        "standard_id",
        "period_start",
        "version_id",
        "period_end",
        "value",
        "sample_size",
        "outcome",
        "gate_passed",
        "points",
    ):
        existing[(row[1], row[2], row[3])] = (row[0], row[4:])

    now = timezone.now()
    to_create: list[Evaluation] = []
    to_update: list[Evaluation] = []
    for key, judgement in judgements.items():
        agent_id, standard_id, period_start = key
        found = existing.get(key)
        if found and found[1] == judgement.row():
            run.unchanged += 1
            continue
        evaluation = Evaluation(
            id=found[0] if found else None,
            agent_id=agent_id,
            standard_id=standard_id,
            version_id=judgement.version_id,
            period_start=period_start,
            period_end=judgement.period_end,
            value=judgement.value,
            sample_size=judgement.sample_size,
            outcome=judgement.outcome,
            gate_passed=judgement.gate_passed,
            points=judgement.points,
            computed_at=now,
        )
        (to_update if found else to_create).append(evaluation)

    with transaction.atomic():
        for start in range(0, len(to_create), WRITE_BATCH):
            Evaluation.objects.bulk_create(to_create[start : start + WRITE_BATCH])
        Evaluation.objects.bulk_update(
            to_update,
            [
                "version",
                "period_end",
                "value",
                "sample_size",
                "outcome",
                "gate_passed",
                "points",
                "computed_at",
            ],
            batch_size=WRITE_BATCH,
        )
        run.created, run.updated = len(to_create), len(to_update)
        run.changed_ids = [e.id for e in to_create] + [e.id for e in to_update]
        if run.changed_ids:
            ids = list(run.changed_ids)
            transaction.on_commit(
                lambda: evaluations_changed.send(sender=Evaluation, evaluation_ids=ids)
            )
    return run
