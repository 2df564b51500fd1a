"""Reads of the ledger: balances, history, provisional points, levels, streaks and the
ledger's own check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from performance.models import Agent, Evaluation
from performance.periods import Period, PeriodKind
from performance.selectors import local_today_resolver
from rewards.models import (
    SPENDING_KINDS,
    AgentBalance,
    AgentStreak,
    Level,
    PointsEntry,
)


@dataclass(frozen=True)
class Balance:
    lifetime: int
    spendable: int


def agent_balance(agent: Agent) -> Balance:
    row = AgentBalance.objects.filter(agent=agent).first()
    return Balance(row.lifetime, row.spendable) if row else Balance(0, 0)


def agents_with_balances(agents: QuerySet[Agent]) -> QuerySet[Agent]:
    """`agents` with their balances (0 where none yet), highest lifetime points first."""
    return agents.annotate(
        lifetime=Coalesce("points_balance__lifetime", 0),
        spendable=Coalesce("points_balance__spendable", 0),
    ).order_by("team__name", "-lifetime", "user__first_name", "user__username")


def adjustments_of(agents: QuerySet[Agent]) -> QuerySet[PointsEntry]:
    """Manual adjustments of `agents`, newest first: the audit list."""
    return (
        PointsEntry.objects.filter(kind=PointsEntry.Kind.MANUAL_ADJUSTMENT, agent__in=agents)
        .select_related("agent__user", "agent__team", "created_by")
        .order_by("-created_at", "-id")
    )


def agent_history(agent: Agent) -> QuerySet[PointsEntry]:
    """The agent's entries, newest first, each with `reference_total`: what its reference
    (an evaluation, a streak ...) stood at once it was appended, so an entry that leaves a
    missed period below zero reads as a penalty (PointsEntry.is_penalty)."""
    return (
        PointsEntry.objects.filter(agent=agent)
        .select_related("standard", "created_by")
        .annotate(
            reference_total=Window(
                Sum("points"), partition_by=[F("reference")], order_by=F("id").asc()
            )
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class ProvisionalPoints:
    standard_name: str
    period: Period
    points: int
    outcome: str
    evaluation_id: int

    @property
    def outcome_label(self) -> str:
        return Evaluation.Outcome(self.outcome).label


def agent_provisional_points(agent: Agent) -> list[ProvisionalPoints]:
    """Points of periods still under way, from the current evaluations: never in the ledger
    until the period closes and reconciliation writes them."""
    today = local_today_resolver([agent.pk])
    rows = (
        # A cheap bound for the query (no zone is two days from UTC's date); the exact test
        # per row uses today in the zone of the agent's team on the period's first day.
        Evaluation.objects.filter(
            agent=agent, period_end__gt=timezone.now().date() - timedelta(days=2)
        )
        .exclude(points=0)
        .values(
            "id",
            "standard__name",
            "standard__period",
            "period_start",
            "period_end",
            "points",
            "outcome",
        )
        .order_by("period_start", "standard__name")
    )
    return [
        ProvisionalPoints(
            standard_name=row["standard__name"],
            period=Period(
                row["period_start"], row["period_end"], PeriodKind(row["standard__period"])
            ),
            points=row["points"],
            outcome=row["outcome"],
            evaluation_id=row["id"],
        )
        for row in rows
        if row["period_end"] > today(agent.pk, row["period_start"])
    ]


@dataclass(frozen=True)
class BalanceMismatch:
    agent_id: int
    balance: Balance
    ledger: Balance


def balance_mismatches(agent_ids: Iterable[int] | None = None) -> list[BalanceMismatch]:
    """Agents whose balance row differs from the sums of their ledger entries."""
    entries = PointsEntry.objects.all()
    balances = AgentBalance.objects.all()
    if agent_ids is not None:
        agent_ids = list(agent_ids)
        entries = entries.filter(agent_id__in=agent_ids)
        balances = balances.filter(agent_id__in=agent_ids)
    sums = {
        row["agent_id"]: Balance(row["lifetime"] or 0, row["spendable"] or 0)
        for row in entries.values("agent_id").annotate(
            lifetime=Sum("points", filter=~Q(kind__in=SPENDING_KINDS)), spendable=Sum("points")
        )
    }
    held = {row.agent_id: Balance(row.lifetime, row.spendable) for row in balances}
    return [
        BalanceMismatch(
            agent_id, held.get(agent_id, Balance(0, 0)), sums.get(agent_id, Balance(0, 0))
        )
        for agent_id in sorted(sums.keys() | held.keys())
        if held.get(agent_id, Balance(0, 0)) != sums.get(agent_id, Balance(0, 0))
    ]


@dataclass(frozen=True)
class LedgerTotals:
    entries: int
    points: int
    agents: int


def ledger_totals() -> LedgerTotals:
    totals = PointsEntry.objects.aggregate(
        entries=Count("id"), points=Sum("points"), agents=Count("agent", distinct=True)
    )
    return LedgerTotals(totals["entries"], totals["points"] or 0, totals["agents"])


@dataclass(frozen=True)
class LevelProgress:
    level: Level | None
    next_level: Level | None
    points_to_next: int
    percent: int  # of the way from this level's threshold to the next's


def level_progress(lifetime: int) -> LevelProgress:
    levels = list(Level.objects.order_by("threshold"))
    reached = [level for level in levels if level.threshold <= lifetime]
    ahead = [level for level in levels if level.threshold > lifetime]
    level = reached[-1] if reached else None
    next_level = ahead[0] if ahead else None
    if next_level is None:
        return LevelProgress(level, None, 0, 100)
    floor = level.threshold if level else 0
    span = max(next_level.threshold - floor, 1)
    return LevelProgress(
        level,
        next_level,
        next_level.threshold - lifetime,
        max(0, min(100, (lifetime - floor) * 100 // span)),
    )


def agent_streaks(agent: Agent) -> QuerySet[AgentStreak]:
    """The agent's streaks with something to show, longest current first."""
    return (
        AgentStreak.objects.filter(agent=agent, best__gt=0)
        .select_related("standard")
        .order_by("-current", "-best", "standard__name")
    )
