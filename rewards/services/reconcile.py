"""Reconciliation, the one writer of derived points.

For a set of agents (or all), it computes what the current evaluations of closed periods
imply, compares it with the ledger per reference, and appends the difference, with a note
saying what changed. Running it again appends nothing. Periods still under way earn nothing
here: their points are provisional (rewards.selectors) until the period's last local day,
in the zone of the agent's team on its first day, is over.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from performance.models import MEMBERSHIP_ORIGIN, Agent, Evaluation, TeamMembership
from performance.periods import Period, PeriodKind
from rewards.models import PointsEntry
from rewards.services.ledger import NewEntry, balances_lock, entries_append

AGENTS_PER_CHUNK = 200


@dataclass(frozen=True)
class ReconcileScope:
    """Which evaluations and ledger entries to compare: None means all."""

    agent_ids: tuple[int, ...] | None = None
    standard_ids: tuple[int, ...] | None = None
    first_period_start: date | None = None
    last_period_start: date | None = None
    batch_id: int | None = None


@dataclass(frozen=True)
class Discrepancy:
    agent_id: int
    reference: str
    ledger: int
    expected: int


@dataclass
class ReconcileResult:
    agents: int = 0
    entries: int = 0
    points: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)


def evaluation_reference(standard_id: int, period_start: date) -> str:
    return f"evaluation:{standard_id}:{period_start.isoformat()}"


def derived_key(agent_id: int, reference: str, sequence: int) -> str:
    """The n-th derived entry for a reference: two reconciliations that both read n prior
    entries collide on this key instead of both appending."""
    return f"agent:{agent_id}:{reference}:{sequence}"


def local_today_resolver(agent_ids: Iterable[int]) -> Callable[[int, date], date]:
    """today(agent_id, day): today's date in the zone of the agent's team on `day`."""
    starts: dict[int, list[date]] = {}
    zones: dict[int, list[str]] = {}
    for agent_id, starts_on, zone in (
        TeamMembership.objects.filter(agent_id__in=list(agent_ids))
        .order_by("agent_id", "starts_on")
        .values_list("agent_id", "starts_on", "team__time_zone")
    ):
        starts.setdefault(agent_id, []).append(starts_on)
        zones.setdefault(agent_id, []).append(zone)
    today_in: dict[str, date] = {}
    now = timezone.now()

    def today(agent_id: int, day: date) -> date:
        agent_starts = starts.get(agent_id)
        if not agent_starts:
            zone = settings.TIME_ZONE
        else:
            index = max(bisect.bisect_right(agent_starts, max(day, MEMBERSHIP_ORIGIN)) - 1, 0)
            zone = zones[agent_id][index]
        if zone not in today_in:
            today_in[zone] = timezone.localtime(now, ZoneInfo(zone)).date()
        return today_in[zone]

    return today


def _evaluations_in(scope: ReconcileScope, agent_ids: list[int]):
    rows = Evaluation.objects.filter(agent_id__in=agent_ids)
    if scope.standard_ids is not None:
        rows = rows.filter(standard_id__in=scope.standard_ids)
    if scope.first_period_start is not None:
        rows = rows.filter(period_start__gte=scope.first_period_start)
    if scope.last_period_start is not None:
        rows = rows.filter(period_start__lte=scope.last_period_start)
    return rows


def _ledger_in(scope: ReconcileScope, agent_ids: list[int]):
    rows = PointsEntry.objects.filter(agent_id__in=agent_ids, kind=PointsEntry.Kind.STANDARD)
    if scope.standard_ids is not None:
        rows = rows.filter(standard_id__in=scope.standard_ids)
    if scope.first_period_start is not None:
        rows = rows.filter(earned_on__gte=scope.first_period_start)
    if scope.last_period_start is not None:
        rows = rows.filter(earned_on__lte=scope.last_period_start)
    return rows


@dataclass
class _Expected:
    standard_id: int
    standard_name: str
    period: Period
    points: int
    outcome: str


@dataclass
class _Held:
    standard_id: int | None
    earned_on: date
    points: int = 0
    count: int = 0
    outcome: str = ""


def _outcome_label(outcome: str) -> str:
    if not outcome:
        return _("no evaluation")
    return str(Evaluation.Outcome(outcome).label).lower()


def _note(expected: _Expected | None, held: _Held | None, delta: int, batch_id: int | None) -> str:
    if expected is not None:
        what = _("%(standard)s, %(period)s") % {
            "standard": expected.standard_name,
            "period": expected.period.label,
        }
    else:
        what = _("Evaluation of %(day)s") % {"day": held.earned_on.isoformat()}
    after = _outcome_label(expected.outcome if expected else "")
    cause = _(" after feed batch %(batch)s") % {"batch": batch_id} if batch_id else ""
    if held is None or held.count == 0:
        return _("%(what)s: %(after)s: %(delta)+d") % {"what": what, "after": after, "delta": delta}
    return _("%(what)s: %(before)s -> %(after)s%(cause)s: %(delta)+d") % {
        "what": what,
        "before": _outcome_label(held.outcome),
        "after": after,
        "cause": cause,
        "delta": delta,
    }


def _chunk_differences(
    scope: ReconcileScope, agent_ids: list[int]
) -> tuple[dict[tuple[int, str], _Expected], dict[tuple[int, str], _Held]]:
    today = local_today_resolver(agent_ids)
    expected: dict[tuple[int, str], _Expected] = {}
    for row in _evaluations_in(scope, agent_ids).values(
        "agent_id",
        "standard_id",
        "standard__name",
        "standard__period",
        "period_start",
        "period_end",
        "points",
        "outcome",
    ):
        closed = row["period_end"] <= today(row["agent_id"], row["period_start"])
        expected[
            (row["agent_id"], evaluation_reference(row["standard_id"], row["period_start"]))
        ] = _Expected(
            standard_id=row["standard_id"],
            standard_name=row["standard__name"],
            period=Period(
                row["period_start"], row["period_end"], PeriodKind(row["standard__period"])
            ),
            points=row["points"] if closed else 0,
            outcome=row["outcome"] if closed else "",
        )
    held: dict[tuple[int, str], _Held] = {}
    for agent_id, reference, standard_id, earned_on, points, outcome in (
        _ledger_in(scope, agent_ids)
        .order_by("id")
        .values_list("agent_id", "reference", "standard_id", "earned_on", "points", "outcome")
    ):
        entry = held.setdefault((agent_id, reference), _Held(standard_id, earned_on))
        entry.points += points
        entry.count += 1
        entry.outcome = outcome
    return expected, held


def _chunks(agent_ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(agent_ids), AGENTS_PER_CHUNK):
        yield agent_ids[start : start + AGENTS_PER_CHUNK]


def _scope_agent_ids(scope: ReconcileScope) -> list[int]:
    if scope.agent_ids is not None:
        return sorted(set(scope.agent_ids))
    return list(Agent.objects.order_by("pk").values_list("pk", flat=True))


def reconcile(scope: ReconcileScope = ReconcileScope(), *, check: bool = False) -> ReconcileResult:
    """Append what the ledger lacks (or, with check, only list it), a chunk of agents per
    transaction, each chunk under its agents' locks."""
    result = ReconcileResult()
    # Notes are kept in the site's language, whoever's request or task writes them.
    with translation.override(settings.LANGUAGE_CODE):
        for agent_ids in _chunks(_scope_agent_ids(scope)):
            result.agents += len(agent_ids)
            with transaction.atomic():
                if not check:
                    balances_lock(agent_ids)
                expected, held = _chunk_differences(scope, agent_ids)
                new_entries = []
                for key in sorted(expected.keys() | held.keys()):
                    want = expected.get(key)
                    have = held.get(key)
                    delta = (want.points if want else 0) - (have.points if have else 0)
                    if delta == 0:
                        continue
                    agent_id, reference = key
                    result.discrepancies.append(
                        Discrepancy(
                            agent_id,
                            reference,
                            have.points if have else 0,
                            delta + (have.points if have else 0),
                        )
                    )
                    new_entries.append(
                        NewEntry(
                            agent_id=agent_id,
                            points=delta,
                            kind=PointsEntry.Kind.STANDARD,
                            earned_on=want.period.start if want else have.earned_on,
                            reference=reference,
                            idempotency_key=derived_key(
                                agent_id, reference, have.count if have else 0
                            ),
                            note=_note(want, have, delta, scope.batch_id),
                            standard_id=want.standard_id if want else have.standard_id,
                            outcome=want.outcome if want else "",
                        )
                    )
                if not check:
                    entries_append(new_entries)
                    result.entries += len(new_entries)
                    result.points += sum(entry.points for entry in new_entries)
    return result
