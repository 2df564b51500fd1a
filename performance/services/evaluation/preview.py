"""Rule preview: what a draft service standard would have judged over recent periods.

Built on the engine's `compute_judgements`, so the counts are exactly what evaluation would
store for a saved standard with the same rule. Nothing is written: the draft's rule is a
`Rule` without a version id, planned under a placeholder standard id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, timedelta

from performance.models import Evaluation, ServiceStandard
from performance.periods import Period, PeriodKind, last_complete_period
from performance.services.evaluation.engine import (
    Judgement,
    Rule,
    StandardPlan,
    agent_scopes,
    compute_judgements,
    standard_plans,
)

Outcome = Evaluation.Outcome

# Never a primary key, so the draft's judgements cannot mix with any saved standard's
# (its own saved version, compared on the same run, or its quality gate).
DRAFT_STANDARD_ID = 0
DEFAULT_PREVIEW_PERIODS = 6
MAX_PREVIEW_PERIODS = 36


@dataclass(frozen=True)
class OutcomeCounts:
    """How the agents in scope were judged in one period (or in several, summed)."""

    exceeded: int = 0
    met: int = 0
    missed: int = 0
    insufficient_data: int = 0
    gate_not_met: int = 0  # met or exceeded, but the quality gate was not: no points
    points: int = 0

    @property
    def agents(self) -> int:
        return self.exceeded + self.met + self.missed + self.insufficient_data

    def __add__(self, other: OutcomeCounts) -> OutcomeCounts:
        return OutcomeCounts(
            exceeded=self.exceeded + other.exceeded,
            met=self.met + other.met,
            missed=self.missed + other.missed,
            insufficient_data=self.insufficient_data + other.insufficient_data,
            gate_not_met=self.gate_not_met + other.gate_not_met,
            points=self.points + other.points,
        )


@dataclass(frozen=True)
class PreviewRow:
    period: Period
    draft: OutcomeCounts
    saved: OutcomeCounts | None  # under the standard's current version; None for a new one


def last_complete_periods(kind: PeriodKind | str, *, count: int, until: date) -> list[Period]:
    """The `count` periods of `kind` that ended on or before `until`, oldest first."""
    periods = [last_complete_period(kind, today=until)]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return periods


def preview_rule(
    *,
    draft: ServiceStandard,
    team_ids: Collection[int],
    periods: int = DEFAULT_PREVIEW_PERIODS,
    until: date,
) -> list[PreviewRow]:
    """Judge every agent in scope under the draft's rule over the last `periods` complete
    periods before `until` (usually today), beside the standard's current version when the
    draft edits a saved standard.

    `draft` is an unsaved instance carrying the form's values (teams go in `team_ids`, an
    M2M cannot live on an unsaved instance). Its active dates are not applied: the point is
    to see the rule on recent data, whenever the standard starts. A quality gate is judged
    by its saved plan, as evaluation would.
    """
    if not 1 <= periods <= MAX_PREVIEW_PERIODS:
        raise ValueError(f"periods must be between 1 and {MAX_PREVIEW_PERIODS}")
    window = last_complete_periods(draft.period, count=periods, until=until)
    draft_plans = _draft_plans(draft, frozenset(team_ids))
    saved_plans = _current_version_plans(draft.pk) if draft.pk is not None else []
    counts = _counts_by_period([draft_plans, saved_plans], window)
    return [
        PreviewRow(
            period=period,
            draft=counts[DRAFT_STANDARD_ID][period.start],
            saved=counts[draft.pk][period.start] if saved_plans else None,
        )
        for period in window
    ]


def _draft_plans(draft: ServiceStandard, team_ids: frozenset[int]) -> list[StandardPlan]:
    rule = Rule.of(draft, version_id=None, number=0, effective_from=date.min)
    plan = StandardPlan(
        standard_id=DRAFT_STANDARD_ID,
        metric=draft.metric,
        channel=draft.channel or "",
        period=PeriodKind(draft.period),
        team_ids=team_ids,
        active_from=date.min,
        active_until=None,
        rules=[rule],
    )
    return [plan, *_gate_plans(rule.quality_gate_id)]


def _current_version_plans(standard_id: int) -> list[StandardPlan]:
    """The saved standard judged by its latest version over the whole window, so both
    columns compare one rule with another (not a rule with a history of rules)."""
    plans = standard_plans([standard_id])
    saved = next((plan for plan in plans if plan.standard_id == standard_id), None)
    if saved is None:
        return []
    current = max(saved.rules, key=lambda rule: rule.number)
    saved = replace(saved, rules=[current], active_from=date.min, active_until=None)
    return [saved, *(plan for plan in plans if plan.standard_id == current.quality_gate_id)]


def _gate_plans(gate_id: int | None) -> list[StandardPlan]:
    if gate_id is None:
        return []
    # Only the gate's own outcome matters here, not whether its gate paid it points.
    return [plan for plan in standard_plans([gate_id]) if plan.standard_id == gate_id]


def _counts_by_period(
    columns: list[list[StandardPlan]], window: list[Period]
) -> dict[int, dict[date, OutcomeCounts]]:
    """Judgements of each column's judged standard (its plans: that standard first, then its
    gate), tallied per period. Every column is judged in one run of the engine, so the
    window's facts are read once however many columns there are."""
    columns = [plans for plans in columns if plans]
    # A gate both columns name is planned once (the first column's plan of it kept).
    plans = list(
        {plan.standard_id: plan for column in reversed(columns) for plan in column}.values()
    )
    agents = agent_scopes()
    scopes = [column[0].team_ids for column in columns]
    # Standards for some teams read only their agents' facts, not every team's.
    restrict = all(scopes)
    if restrict:
        scope = frozenset().union(*scopes)
        agents = [agent for agent in agents if agent.ever_in(scope)]
    judgements = compute_judgements(
        plans,
        agents,
        since=window[0].start,
        until=window[-1].end - timedelta(days=1),
        restrict_agents=restrict,
    )
    judged = {column[0].standard_id for column in columns}
    tallies: dict[int, dict[date, list[Judgement]]] = {
        standard_id: {period.start: [] for period in window} for standard_id in judged
    }
    for (_, judged_standard, period_start), judgement in judgements.items():
        if judged_standard in judged:
            tallies[judged_standard][period_start].append(judgement)
    return {
        standard_id: {start: _tally(rows) for start, rows in by_period.items()}
        for standard_id, by_period in tallies.items()
    }


def _tally(judgements: list[Judgement]) -> OutcomeCounts:
    by_outcome = dict.fromkeys(Outcome.values, 0)
    gate_not_met = points = 0
    for judgement in judgements:
        by_outcome[judgement.outcome] += 1
        points += judgement.points
        if judgement.gate_passed is False and judgement.outcome in (Outcome.MET, Outcome.EXCEEDED):
            gate_not_met += 1
    return OutcomeCounts(
        exceeded=by_outcome[Outcome.EXCEEDED],
        met=by_outcome[Outcome.MET],
        missed=by_outcome[Outcome.MISSED],
        insufficient_data=by_outcome[Outcome.INSUFFICIENT_DATA],
        gate_not_met=gate_not_met,
        points=points,
    )
