"""Coaching flags: derived from the closed periods of each standard (coaching.services.replay
holds the rule), opened by hand, resolved or dismissed by a lead.

Derivation is the one writer of rule flags. For each agent x standard it replays the closed
periods after the last closed flag and reconciles the stored flags with what the replay
implies: new flags are created (already resolved, for a backlog), open ones resolve, and an
open flag whose evidence a late correction removed is withdrawn with the reason, unless a
coaching session used it: then it stays open, marked "evidence corrected", and resolves like
a flag opened by hand. Flags a lead closed are history: the replay starts after them.
Running it twice writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coaching.models import CoachingFlag, FlagEvidence, FlagRequest
from coaching.services.replay import Derived, Judged, replay
from coaching.services.training import training_assign_for_flags
from coaching.tasks import derive_pending as derive_pending_task
from performance.bulk import instances_insert, row_date, rows_insert, sql_in
from performance.metrics import METRICS, Direction
from performance.models import (
    Agent,
    Evaluation,
    EvaluationChange,
    ServiceStandard,
    StandardVersion,
)
from performance.periods import last_complete_period, period_containing
from performance.selectors import local_today_resolver

AGENTS_PER_CHUNK = 500
NOTE_MAX_LENGTH = 2000

Pair = tuple[int, int]  # (agent id, standard id)
# What derivation changes on a stored flag.
DERIVED_FIELDS = [
    "opened_on",
    "status",
    "missed_periods",
    "gap",
    "resolved_on",
    "closed_at",
    "closed_through",
    "reason",
    "evidence_corrected",
    "updated_at",
]


@dataclass(frozen=True)
class FlagScope:
    """Which agents and standards to derive flags for: None means all."""

    agent_ids: tuple[int, ...] | None = None
    standard_ids: tuple[int, ...] | None = None


@dataclass
class DeriveResult:
    agents: int = 0
    opened: int = 0
    resolved: int = 0
    withdrawn: int = 0
    corrected: int = 0  # kept open (a session used them), marked "evidence corrected"
    refreshed: int = 0  # still open, with changed evidence

    @property
    def writes(self) -> int:
        return self.opened + self.resolved + self.withdrawn + self.corrected + self.refreshed


def flag_gap(evidence: Iterable[Judged], metric_key: str) -> float | None:
    """How far the latest missed period fell short of its target, as a share of the target
    (at least 1 unit, for targets near zero): 0.1 is 10% short."""
    latest = max(evidence, key=lambda judged: judged.start, default=None)
    if latest is None or latest.value is None:
        return None
    short = latest.target - latest.value
    if METRICS[metric_key].direction is Direction.LOWER:
        short = -short
    return round(short / max(abs(latest.target), 1.0), 4)


@dataclass
class _Stored:
    flag: CoachingFlag
    evidence: list[FlagEvidence]


@dataclass
class _Chunk:
    periods: dict[Pair, list[Judged]] = field(default_factory=lambda: defaultdict(list))
    floors: dict[Pair, date] = field(default_factory=dict)
    open: dict[Pair, _Stored] = field(default_factory=dict)
    kinds: dict[int, tuple[str, str]] = field(default_factory=dict)  # standard -> (metric, period)


def _scoped(rows, scope: FlagScope, agent_ids: list[int]):
    rows = rows.filter(agent_id__in=agent_ids)
    if scope.standard_ids is not None:
        rows = rows.filter(standard_id__in=scope.standard_ids)
    return rows


# The judged periods of the pairs whose flags can change: a pair with no stored flag to
# carry on from derives one only if K of some N consecutive judged periods are missed (the
# replay's first window: nothing came before it to clear it), which one window query finds.
# Periods under way are in it too: they come last, so they only ever add a candidate.
_PERIODS_SQL = """
    WITH judged AS (
        SELECT e.agent_id, e.standard_id, e.period_start, e.period_end, e.outcome,
            e.gate_passed, e.id, e.value, v.target, v.coaching_missed, v.coaching_window,
            v.coaching_resolve_after,
            SUM(CASE WHEN e.outcome = %s THEN 1 ELSE 0 END) OVER (
                PARTITION BY e.agent_id, e.standard_id ORDER BY e.period_start
                ROWS UNBOUNDED PRECEDING
            ) AS misses
        FROM {evaluation} e JOIN {version} v ON v.id = e.version_id
        WHERE {where} AND e.outcome IN (%s, %s, %s)
    ),
    windowed AS (
        SELECT agent_id, standard_id, coaching_missed,
            misses - COALESCE(LAG(misses, coaching_window) OVER (
                PARTITION BY agent_id, standard_id ORDER BY period_start
            ), 0) AS in_window
        FROM judged
    ),{kept}
    candidates AS (
        SELECT agent_id, standard_id FROM windowed WHERE in_window >= coaching_missed
        {kept_union}
    )
    SELECT agent_id, standard_id, period_start, period_end, outcome, gate_passed, id, value,
        target, coaching_missed, coaching_window, coaching_resolve_after
    FROM judged
    WHERE EXISTS (
        SELECT 1 FROM candidates c
        WHERE c.agent_id = judged.agent_id AND c.standard_id = judged.standard_id
    )
"""


def _periods_read(scope: FlagScope, agent_ids: list[int], kept: set[Pair]) -> Iterator[tuple]:
    """The judged periods (every one: the caller keeps the closed) of the pairs that have a
    stored flag to carry on from (`kept`) or whose misses reach the rule somewhere."""
    agents, params = sql_in("e.agent_id", agent_ids)
    clauses = [agents]
    if scope.standard_ids is not None:
        standards, standard_params = sql_in("e.standard_id", scope.standard_ids)
        clauses.append(standards)
        params += standard_params
    kept_sql = kept_union = ""
    kept_params: list = []
    if kept:
        values = ", ".join(["(%s, %s)"] * len(kept))
        kept_sql = f"\n    kept (agent_id, standard_id) AS (VALUES {values}),"
        kept_union = "UNION ALL SELECT agent_id, standard_id FROM kept"
        kept_params = [value for pair in sorted(kept) for value in pair]
    sql = _PERIODS_SQL.format(
        evaluation=connection.ops.quote_name(Evaluation._meta.db_table),
        version=connection.ops.quote_name(StandardVersion._meta.db_table),
        where=" AND ".join(clauses),
        kept=kept_sql,
        kept_union=kept_union,
    )
    outcomes = Evaluation.Outcome
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                outcomes.MISSED.value,
                *params,
                outcomes.MET.value,
                outcomes.EXCEEDED.value,
                outcomes.MISSED.value,
                *kept_params,
            ],
        )
        yield from cursor.fetchall()


def _chunk_read(scope: FlagScope, agent_ids: list[int]) -> _Chunk:
    chunk = _Chunk()
    stored = list(
        _scoped(CoachingFlag.objects, scope, agent_ids).filter(
            status__in=[
                CoachingFlag.Status.OPEN,
                CoachingFlag.Status.RESOLVED,
                CoachingFlag.Status.DISMISSED,
            ]
        )
    )
    evidence: dict[int, list[FlagEvidence]] = defaultdict(list)
    for row in FlagEvidence.objects.filter(
        flag_id__in=[flag.pk for flag in stored if flag.is_open]
    ):
        evidence[row.flag_id].append(row)
    for flag in stored:
        pair = (flag.agent_id, flag.standard_id)
        if flag.is_open:
            chunk.open[pair] = _Stored(flag, evidence[flag.pk])
        elif flag.closed_through is not None and flag.closed_through > chunk.floors.get(
            pair, date.min
        ):
            chunk.floors[pair] = flag.closed_through
    today = local_today_resolver(agent_ids)
    for (
        agent_id,
        standard_id,
        start,
        end,
        outcome,
        gate_passed,
        evaluation_id,
        value,
        target,
        missed,
        window,
        resolve_after,
    ) in _periods_read(scope, agent_ids, chunk.open.keys() | chunk.floors.keys()):
        start, end = row_date(start), row_date(end)
        if end <= today(agent_id, start):
            chunk.periods[(agent_id, standard_id)].append(
                Judged(
                    start,
                    end,
                    outcome,
                    gate_passed if gate_passed is None else bool(gate_passed),
                    evaluation_id,
                    value,
                    target,
                    missed,
                    window,
                    resolve_after,
                )
            )
    standard_ids = {pair[1] for pair in chunk.periods} | {pair[1] for pair in chunk.open}
    chunk.kinds = {
        pk: (metric, period)
        for pk, metric, period in ServiceStandard.objects.filter(pk__in=standard_ids).values_list(
            "pk", "metric", "period"
        )
    }
    return chunk


def _evidence_key(rows: Iterable[FlagEvidence | Judged]) -> list[tuple]:
    return sorted(
        (row.period_start, row.evaluation_id, row.value, row.target)
        if isinstance(row, FlagEvidence)
        else (row.start, row.evaluation_id, row.value, row.target)
        for row in rows
    )


def _period_labels(starts: Iterable[date], kind: str) -> str:
    return ", ".join(period_containing(start, kind).label for start in sorted(starts))


def _withdraw_reason(stored: _Stored, periods: list[Judged], kind: str) -> str:
    now_missed = {judged.start for judged in periods if judged.is_missed}
    gone = [row.period_start for row in stored.evidence if row.period_start not in now_missed]
    if gone:
        return _(
            "Withdrawn: corrected data show these periods are no longer missed: %(periods)s."
        ) % {"periods": _period_labels(gone, kind)}
    return _("Withdrawn: corrected data no longer complete the coaching rule on %(period)s.") % {
        "period": period_containing(stored.flag.opened_on, kind).label
    }


@dataclass
class _Writes:
    """A chunk's changes: flags to update (before any is created, so no two are open at
    once), new flags with their evidence, and the evidence to replace."""

    updated: list[CoachingFlag] = field(default_factory=list)
    created: list[tuple[CoachingFlag, tuple[Judged, ...]]] = field(default_factory=list)
    evidence: dict[int, tuple[Judged, ...]] = field(default_factory=dict)

    EVIDENCE_COLUMNS = ("flag_id", "evaluation_id", "period_start", "period_end", "value", "target")

    def apply(self, now: datetime) -> None:
        for flag in self.updated:
            flag.updated_at = now
            flag.save(update_fields=DERIVED_FIELDS)
        if self.evidence:
            FlagEvidence.objects.filter(flag_id__in=list(self.evidence)).delete()
        instances_insert(CoachingFlag, [flag for flag, _ in self.created])
        rows = [(flag.pk, judged) for flag, evidence in self.created for judged in evidence]
        rows += [(pk, judged) for pk, evidence in self.evidence.items() for judged in evidence]
        rows_insert(
            FlagEvidence,
            self.EVIDENCE_COLUMNS,
            [
                (pk, judged.evaluation_id, judged.start, judged.end, judged.value, judged.target)
                for pk, judged in rows
            ],
        )
        training_assign_for_flags(flag for flag, _ in self.created)


def _set_derived(flag: CoachingFlag, derived: Derived, metric: str, now: datetime) -> bool:
    """Make a stored flag what the replay derived; whether anything changed."""
    before = (flag.opened_on, flag.status, flag.resolved_on, flag.missed_periods, flag.gap)
    flag.opened_on = derived.opened_on
    if not derived.anchored:
        flag.missed_periods = len(derived.evidence)
        flag.gap = flag_gap(derived.evidence, metric)
    if derived.resolved_on is not None:
        flag.status = CoachingFlag.Status.RESOLVED
        flag.resolved_on = flag.closed_through = derived.resolved_on
        flag.closed_at = now
    return before != (flag.opened_on, flag.status, flag.resolved_on, flag.missed_periods, flag.gap)


def _new_flag(pair: Pair, derived: Derived, metric: str, now: datetime) -> CoachingFlag:
    flag = CoachingFlag(
        agent_id=pair[0],
        standard_id=pair[1],
        origin=CoachingFlag.Origin.RULE,
        opened_on=derived.opened_on,
        created_at=now,
        updated_at=now,
    )
    _set_derived(flag, derived, metric, now)
    return flag


def _match(stored: _Stored, derived: list[Derived]) -> Derived | None:
    """The derived flag that is the stored open one: opened on the same period, or else
    sharing a missed period with it (corrected data moved its opening)."""
    starts = {row.period_start for row in stored.evidence}
    same = [flag for flag in derived if flag.opened_on == stored.flag.opened_on]
    if same:
        return same[0]
    return next(
        (flag for flag in derived if starts & {judged.start for judged in flag.evidence}), None
    )


def _derive_pair(
    pair: Pair, chunk: _Chunk, writes: _Writes, result: DeriveResult, now: datetime
) -> None:
    metric, kind = chunk.kinds[pair[1]]
    periods = chunk.periods.get(pair, [])
    floor = chunk.floors.get(pair)
    stored = chunk.open.get(pair)
    anchored = stored is not None and (
        stored.flag.origin == CoachingFlag.Origin.MANUAL or stored.flag.evidence_corrected
    )
    derived = replay(periods, floor=floor, anchor=stored.flag.opened_on if anchored else None)
    if stored is not None and not anchored:
        match = _match(stored, derived)
        if match is None and stored.flag.used_by_session_at is not None:
            # A session used it: it stays, and resolves like a flag opened by hand.
            stored.flag.evidence_corrected = True
            writes.updated.append(stored.flag)
            result.corrected += 1
            derived = replay(periods, floor=floor, anchor=stored.flag.opened_on)
            anchored = True
        elif match is None:
            stored.flag.status = CoachingFlag.Status.WITHDRAWN
            stored.flag.reason = _withdraw_reason(stored, periods, kind)
            stored.flag.closed_at = now
            writes.updated.append(stored.flag)
            result.withdrawn += 1
        else:
            derived.remove(match)
            changed = _set_derived(stored.flag, match, metric, now)
            if _evidence_key(stored.evidence) != _evidence_key(match.evidence):
                writes.evidence[stored.flag.pk] = match.evidence
                if stored.flag.used_by_session_at is not None:
                    stored.flag.evidence_corrected = True
                changed = True
                result.refreshed += match.is_open
            if changed:
                writes.updated.append(stored.flag)
            result.resolved += not match.is_open
    if anchored:
        anchor = derived.pop(0)
        if not anchor.is_open and _set_derived(stored.flag, anchor, metric, now):
            if stored.flag not in writes.updated:
                writes.updated.append(stored.flag)
            result.resolved += 1
    for flag in derived:
        writes.created.append((_new_flag(pair, flag, metric, now), flag.evidence))
        result.opened += 1
        result.resolved += not flag.is_open


def _chunks(agent_ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(agent_ids), AGENTS_PER_CHUNK):
        yield agent_ids[start : start + AGENTS_PER_CHUNK]


def _scope_agent_ids(scope: FlagScope) -> list[int]:
    if scope.agent_ids is not None:
        return sorted(set(scope.agent_ids))
    return list(Agent.objects.order_by("pk").values_list("pk", flat=True))


def flags_derive(*, scope: FlagScope = FlagScope()) -> DeriveResult:
    """Derive the rule's flags for a scope, a chunk of agents per transaction, each under
    its agents' row locks (lead actions on their flags take the same lock)."""
    result = DeriveResult()
    # Withdrawal reasons are kept in the site's language, whoever's task writes them.
    with translation.override(settings.LANGUAGE_CODE):
        for agent_ids in _chunks(_scope_agent_ids(scope)):
            result.agents += len(agent_ids)
            with transaction.atomic():
                list(Agent.objects.select_for_update().filter(pk__in=agent_ids).values("pk"))
                chunk = _chunk_read(scope, agent_ids)
                writes, now = _Writes(), timezone.now()
                for pair in sorted(chunk.periods.keys() | chunk.open.keys()):
                    _derive_pair(pair, chunk, writes, result, now)
                writes.apply(now)
    return result


# The evaluation seam: each change becomes a request, written in the delivery transaction,
# and a task derives its scope after commit.


def flags_apply_evaluation_change(change: EvaluationChange) -> None:
    FlagRequest.objects.create(
        change_id=change.pk, standard_ids=change.standard_ids, agent_ids=change.agent_ids
    )
    derive_pending_task.delay_on_commit()


def flag_requests_process() -> DeriveResult:
    """Derive every pending request's scope, oldest first, and mark each done. Two workers
    on the same request both derive it; the agents' locks make the second write nothing."""
    total = DeriveResult()
    for request in FlagRequest.objects.filter(done_at__isnull=True).order_by("id"):
        result = flags_derive(
            scope=FlagScope(
                agent_ids=tuple(request.agent_ids) if request.agent_ids is not None else None,
                standard_ids=(
                    tuple(request.standard_ids) if request.standard_ids is not None else None
                ),
            )
        )
        for name in ("agents", "opened", "resolved", "withdrawn", "corrected", "refreshed"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        FlagRequest.objects.filter(pk=request.pk, done_at__isnull=True).update(
            done_at=timezone.now()
        )
    return total


@transaction.atomic
def flag_requests_prune(*, before: datetime) -> int:
    deleted, _ = FlagRequest.objects.filter(done_at__lt=before).delete()
    return deleted


# What leads do by hand.


def _agent_today(agent: Agent) -> date:
    return local_today_resolver([agent.pk])(agent.pk, timezone.localdate())


def _required(text: str, *, field_name: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field_name: message})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {
                field_name: _("At most %(limit)s characters, please (this has %(length)s).")
                % {"limit": NOTE_MAX_LENGTH, "length": len(text)}
            }
        )
    return text


def flag_open_by_hand(
    *, agent: Agent, standard: ServiceStandard, opened_by: AbstractBaseUser, note: str
) -> CoachingFlag:
    """A lead's own flag on any standard, with a note; refused while one is open. It is
    dated on the period under way and resolves itself like any flag."""
    note = _required(
        note, field_name="note", message=_("Say why you open this flag: the agent reads it.")
    )
    with transaction.atomic():
        Agent.objects.select_for_update().filter(pk=agent.pk).first()
        if CoachingFlag.objects.filter(
            agent=agent, standard=standard, status=CoachingFlag.Status.OPEN
        ).exists():
            raise ValidationError(
                {
                    "standard": _(
                        "%(agent)s already has an open flag on %(standard)s: work on that one."
                    )
                    % {"agent": agent.display_name, "standard": standard.name}
                }
            )
        flag = CoachingFlag.objects.create(
            agent=agent,
            standard=standard,
            origin=CoachingFlag.Origin.MANUAL,
            opened_on=period_containing(_agent_today(agent), standard.period).start,
            opened_by=opened_by,
            note=note,
        )
        training_assign_for_flags([flag])
        return flag


def _flag_close(
    *, flag: CoachingFlag, by: AbstractBaseUser, reason: str, status: CoachingFlag.Status
) -> CoachingFlag:
    with transaction.atomic():
        Agent.objects.select_for_update().filter(pk=flag.agent_id).first()
        today = _agent_today(flag.agent)
        last_closed = last_complete_period(flag.standard.period, today=today).start
        latest_evidence = max(
            flag.evidence.values_list("period_start", flat=True), default=last_closed
        )
        now = timezone.now()
        closed = CoachingFlag.objects.filter(pk=flag.pk, status=CoachingFlag.Status.OPEN).update(
            status=status,
            reason=reason,
            resolved_by=by,
            resolved_on=today,
            closed_at=now,
            closed_through=max(last_closed, latest_evidence),
            updated_at=now,
        )
        if closed != 1:
            raise ValidationError(
                _("This flag is already %(status)s.")
                % {"status": CoachingFlag.objects.get(pk=flag.pk).get_status_display().lower()}
            )
        flag.refresh_from_db()
        return flag


def flag_resolve(*, flag: CoachingFlag, resolved_by: AbstractBaseUser, reason: str) -> CoachingFlag:
    """A lead closes an open flag as resolved (coaching done). Only periods after the last
    closed one count towards a new flag."""
    reason = _required(
        reason, field_name="reason", message=_("Say what resolved it: the agent reads it.")
    )
    return _flag_close(
        flag=flag, by=resolved_by, reason=reason, status=CoachingFlag.Status.RESOLVED
    )


def flag_dismiss(
    *, flag: CoachingFlag, dismissed_by: AbstractBaseUser, reason: str
) -> CoachingFlag:
    """A lead dismisses an open flag (it needs no coaching), with the reason."""
    reason = _required(
        reason, field_name="reason", message=_("Say why this flag needs no coaching.")
    )
    return _flag_close(
        flag=flag, by=dismissed_by, reason=reason, status=CoachingFlag.Status.DISMISSED
    )


def flags_mark_used(*, flag_ids: Iterable[int], at: datetime | None = None) -> int:
    """A coaching session used these flags: from then on a correction never withdraws them.
    The first use is kept."""
    return CoachingFlag.objects.filter(
        Q(pk__in=list(flag_ids)), used_by_session_at__isnull=True
    ).update(used_by_session_at=at or timezone.now())
