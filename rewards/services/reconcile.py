"""Reconciliation, the one writer of derived points.

For a set of agents (or all), it computes what the current evaluations of closed periods
imply (their points, and the streak bonuses their runs reach), compares it with the ledger
per reference, and appends the difference, with a note saying what changed; it also keeps
each agent's current and best streak. Running it again appends nothing. Periods still
under way earn nothing here: their points are provisional (rewards.selectors) until the
period's last local day, in the zone of the agent's team on its first day, is over.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from performance.models import MEMBERSHIP_ORIGIN, Agent, Evaluation, TeamMembership
from performance.periods import Period, PeriodKind, period_containing
from rewards.models import AgentStreak, PointsEntry, StreakBonus
from rewards.services.ledger import NewEntry, balances_lock, entries_append
from rewards.services.streaks import current_and_best, earns, streak_rewards, streaks_of

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


def _evaluations_in(scope: ReconcileScope, agent_ids: list[int], *, all_periods: bool = False):
    rows = Evaluation.objects.filter(agent_id__in=agent_ids)
    if scope.standard_ids is not None:
        rows = rows.filter(standard_id__in=scope.standard_ids)
    if all_periods:
        return rows
    if scope.first_period_start is not None:
        rows = rows.filter(period_start__gte=scope.first_period_start)
    if scope.last_period_start is not None:
        rows = rows.filter(period_start__lte=scope.last_period_start)
    return rows


def _ledger_in(scope: ReconcileScope, agent_ids: list[int]):
    """The derived entries the scope decides: its periods' evaluation points, and every
    streak bonus of its standards (a correction in one period may break a later streak)."""
    standard_entries = Q(kind=PointsEntry.Kind.STANDARD)
    if scope.first_period_start is not None:
        standard_entries &= Q(earned_on__gte=scope.first_period_start)
    if scope.last_period_start is not None:
        standard_entries &= Q(earned_on__lte=scope.last_period_start)
    rows = PointsEntry.objects.filter(
        standard_entries | Q(kind=PointsEntry.Kind.STREAK_BONUS), agent_id__in=agent_ids
    )
    if scope.standard_ids is not None:
        rows = rows.filter(standard_id__in=scope.standard_ids)
    return rows


@dataclass
class _Expected:
    kind: str
    standard_id: int
    earned_on: date
    points: int
    outcome: str
    # The cause, for notes ("CSAT, week 44"), worded only for the entries written.
    what: Callable[[], str]


@dataclass
class _Held:
    kind: str
    standard_id: int | None
    earned_on: date
    points: int = 0
    count: int = 0
    outcome: str = ""


def _evaluation_cause(standard_name: str, period: Period) -> str:
    return _("%(standard)s, %(period)s") % {"standard": standard_name, "period": period.label}


def _streak_cause(standard_name: str, length: int, first_start: date, kind: PeriodKind) -> str:
    return _("Streak bonus: %(standard)s, %(length)s periods in a row from %(first)s") % {
        "standard": standard_name,
        "length": length,
        "first": period_containing(first_start, kind).label,
    }


def _outcome_label(outcome: str) -> str:
    if not outcome:
        return _("no evaluation")
    return str(Evaluation.Outcome(outcome).label).lower()


def _note(expected: _Expected | None, held: _Held | None, delta: int, batch_id: int | None) -> str:
    what = expected.what() if expected else _("Evaluation of %(day)s") % {"day": held.earned_on}
    cause = _(" after feed batch %(batch)s") % {"batch": batch_id} if batch_id else ""
    kind = expected.kind if expected else held.kind
    if kind == PointsEntry.Kind.STREAK_BONUS:
        if expected is None:
            return _("Streak bonus withdrawn: the streak is broken%(cause)s: %(delta)+d") % {
                "cause": cause,
                "delta": delta,
            }
        return _("%(what)s%(cause)s: %(delta)+d") % {"what": what, "cause": cause, "delta": delta}
    after = _outcome_label(expected.outcome if expected else "")
    if held is None or held.count == 0:
        return _("%(what)s: %(after)s: %(delta)+d") % {"what": what, "after": after, "delta": delta}
    return _("%(what)s: %(before)s -> %(after)s%(cause)s: %(delta)+d") % {
        "what": what,
        "before": _outcome_label(held.outcome),
        "after": after,
        "cause": cause,
        "delta": delta,
    }


@dataclass
class _ChunkState:
    expected: dict[tuple[int, str], _Expected]
    held: dict[tuple[int, str], _Held]
    streaks: dict[tuple[int, int], tuple[int, int]]  # (agent, standard) -> (current, best)


def _chunk_state(scope: ReconcileScope, agent_ids: list[int]) -> _ChunkState:
    today = local_today_resolver(agent_ids)
    standard_names: dict[int, tuple[str, PeriodKind]] = {}
    expected: dict[tuple[int, str], _Expected] = {}
    judged: dict[tuple[int, int], list[tuple[date, bool | None]]] = {}
    in_range = (scope.first_period_start or date.min, scope.last_period_start or date.max)
    for row in _evaluations_in(scope, agent_ids, all_periods=True).values(
        "agent_id",
        "standard_id",
        "standard__name",
        "standard__period",
        "period_start",
        "period_end",
        "points",
        "outcome",
        "gate_passed",
    ):
        agent_id, standard_id, start = row["agent_id"], row["standard_id"], row["period_start"]
        standard_names[standard_id] = (row["standard__name"], PeriodKind(row["standard__period"]))
        closed = row["period_end"] <= today(agent_id, start)
        if closed:
            judged.setdefault((agent_id, standard_id), []).append(
                (start, earns(row["outcome"], row["gate_passed"]))
            )
        if not in_range[0] <= start <= in_range[1]:
            continue
        period = Period(start, row["period_end"], standard_names[standard_id][1])
        expected[(agent_id, evaluation_reference(standard_id, start))] = _Expected(
            kind=PointsEntry.Kind.STANDARD,
            standard_id=standard_id,
            earned_on=start,
            points=row["points"] if closed else 0,
            outcome=row["outcome"] if closed else "",
            what=partial(_evaluation_cause, row["standard__name"], period),
        )
    bonuses: dict[int, list[tuple[int, int]]] = {}
    for standard_id, length, points in StreakBonus.objects.filter(
        standard_id__in={pair[1] for pair in judged}
    ).values_list("standard_id", "length", "points"):
        bonuses.setdefault(standard_id, []).append((length, points))
    streaks: dict[tuple[int, int], tuple[int, int]] = {}
    for (agent_id, standard_id), periods in judged.items():
        runs = streaks_of(periods)
        streaks[(agent_id, standard_id)] = current_and_best(runs)
        name, kind = standard_names[standard_id]
        for reward in streak_rewards(standard_id, runs, bonuses.get(standard_id, [])):
            expected[(agent_id, reward.reference)] = _Expected(
                kind=PointsEntry.Kind.STREAK_BONUS,
                standard_id=standard_id,
                earned_on=reward.earned_on,
                points=reward.points,
                outcome="",
                what=partial(_streak_cause, name, reward.length, reward.streak_start, kind),
            )
    held: dict[tuple[int, str], _Held] = {}
    for agent_id, kind, reference, standard_id, earned_on, points, outcome in (
        _ledger_in(scope, agent_ids)
        .order_by("id")
        .values_list(
            "agent_id", "kind", "reference", "standard_id", "earned_on", "points", "outcome"
        )
    ):
        entry = held.setdefault((agent_id, reference), _Held(kind, standard_id, earned_on))
        entry.points += points
        entry.count += 1
        entry.outcome = outcome
    return _ChunkState(expected, held, streaks)


def _streaks_store(scope: ReconcileScope, agent_ids: list[int], streaks: dict) -> None:
    stale = AgentStreak.objects.filter(agent_id__in=agent_ids)
    if scope.standard_ids is not None:
        stale = stale.filter(standard_id__in=scope.standard_ids)
    stale.exclude(
        pk__in=[
            pk
            for pk, agent_id, standard_id in stale.values_list("pk", "agent_id", "standard_id")
            if (agent_id, standard_id) in streaks
        ]
    ).delete()
    AgentStreak.objects.bulk_create(
        [
            AgentStreak(agent_id=agent_id, standard_id=standard_id, current=current, best=best)
            for (agent_id, standard_id), (current, best) in streaks.items()
        ],
        update_conflicts=True,
        unique_fields=["agent", "standard"],
        update_fields=["current", "best", "updated_at"],
    )


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
                state = _chunk_state(scope, agent_ids)
                new_entries = []
                for key in sorted(state.expected.keys() | state.held.keys()):
                    want, have = state.expected.get(key), state.held.get(key)
                    held_points = have.points if have else 0
                    delta = (want.points if want else 0) - held_points
                    if delta == 0:
                        continue
                    agent_id, reference = key
                    result.discrepancies.append(
                        Discrepancy(agent_id, reference, held_points, held_points + delta)
                    )
                    new_entries.append(
                        NewEntry(
                            agent_id=agent_id,
                            points=delta,
                            kind=want.kind if want else have.kind,
                            earned_on=want.earned_on if want else have.earned_on,
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
                    _streaks_store(scope, agent_ids, state.streaks)
                    result.entries += len(new_entries)
                    result.points += sum(entry.points for entry in new_entries)
    return result
