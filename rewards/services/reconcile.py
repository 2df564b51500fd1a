"""Reconciliation, the one writer of derived points.

For a set of agents (or all), it computes what the current evaluations of closed periods
imply (their points, and the streak bonuses their runs reach), compares it with the ledger
per reference, and appends the difference, with a note saying what changed; it also keeps
each agent's current and best streak. Running it again appends nothing. Periods still
under way earn nothing here: their points are provisional (rewards.selectors) until the
period's last local day, in the zone of the agent's team on its first day, is over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache, partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from performance.bulk import row_date, statistics_refresh
from performance.models import Agent, Evaluation, ServiceStandard
from performance.periods import PeriodKind, period_containing
from performance.selectors import local_today_spans, today_resolver
from rewards.models import AgentStreak, PointsEntry
from rewards.services.badges import BadgeAward, BadgeRun, agent_badges_store, badges_derive
from rewards.services.challenges import challenge_prizes_implied
from rewards.services.derived import (
    STAGE,
    DerivedScope,
    Difference,
    derive,
    starts_reference,
)
from rewards.services.ledger import (
    NewEntry,
    balances_lock,
    entries_append,
    entries_append_selected,
)
from rewards.services.notices import badges_earned_notify

AGENTS_PER_CHUNK = 200


@lru_cache(maxsize=1024)
def _translated(message: str, language: str) -> str:
    return gettext(message)


def _(message: str) -> str:
    """gettext, remembered per language: a reconciliation words the same notes 10^6 times,
    always in the site's language (reconcile activates it)."""
    return _translated(message, settings.LANGUAGE_CODE)


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
    discrepancies: list[Discrepancy] = field(default_factory=list)  # a check run's


def derived_key(agent_id: int, reference: str, sequence: int) -> str:
    """The n-th derived entry for a reference: two reconciliations that both read n prior
    entries collide on this key instead of both appending."""
    return f"agent:{agent_id}:{reference}:{sequence}"


def _derived_key_sql(agent_id: str, reference: str) -> str:
    """derived_key of a reference's first entry, in SQL."""
    return f"'agent:' || CAST({agent_id} AS TEXT) || ':' || {reference} || ':0'"


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


# Notes repeat the same few hundred period labels and outcome words across thousands of
# agents: worded once per language (formatting a date is the costly part of a note).
@lru_cache(maxsize=65_536)
def _period_label(start: date, kind: PeriodKind, language: str) -> str:
    return period_containing(start, kind).label


@lru_cache(maxsize=64)
def _outcome_word(outcome: str, language: str) -> str:
    if not outcome:
        return _("no evaluation")
    return str(Evaluation.Outcome(outcome).label).lower()


def _evaluation_cause(standard_name: str, start: date, kind: PeriodKind) -> str:
    return _("%(standard)s, %(period)s") % {
        "standard": standard_name,
        "period": _period_label(start, kind, settings.LANGUAGE_CODE),
    }


def _streak_cause(standard_name: str, length: int, first_start: date, kind: PeriodKind) -> str:
    return _("Streak bonus: %(standard)s, %(length)s periods in a row from %(first)s") % {
        "standard": standard_name,
        "length": length,
        "first": _period_label(first_start, kind, settings.LANGUAGE_CODE),
    }


def _outcome_label(outcome: str) -> str:
    return _outcome_word(outcome, settings.LANGUAGE_CODE)


def _note(expected: _Expected | None, held: _Held | None, delta: int, batch_id: int | None) -> str:
    what = expected.what() if expected else _("Evaluation of %(day)s") % {"day": held.earned_on}
    cause = _(" after feed batch %(batch)s") % {"batch": batch_id} if batch_id else ""
    kind = expected.kind if expected else held.kind
    if kind == PointsEntry.Kind.CHALLENGE_PRIZE:
        if expected is None:
            return _("Challenge prize withdrawn: its results changed: %(delta)+d") % {
                "delta": delta
            }
        return _("%(what)s: %(delta)+d") % {"what": what, "delta": delta}
    if kind == PointsEntry.Kind.STREAK_BONUS:
        if expected is None:
            return _("Streak bonus withdrawn: the streak is broken%(cause)s: %(delta)+d") % {
                "cause": cause,
                "delta": delta,
            }
        return _("%(what)s%(cause)s: %(delta)+d") % {"what": what, "cause": cause, "delta": delta}
    after = _outcome_label(expected.outcome if expected else "")
    wanted = expected.points if expected else 0
    if held is None or held.count == 0:
        if wanted < 0:
            return _("%(what)s: %(after)s: penalty %(delta)+d") % {
                "what": what,
                "after": after,
                "delta": delta,
            }
        return _("%(what)s: %(after)s: %(delta)+d") % {"what": what, "after": after, "delta": delta}
    return _("%(what)s: %(before)s -> %(after)s%(cause)s: %(delta)+d%(penalty)s") % {
        "what": what,
        "before": _outcome_label(held.outcome),
        "after": after,
        "cause": cause,
        "delta": delta,
        "penalty": _penalty_clause(wanted, held.points),
    }


SqlValue = tuple[str, list]  # an SQL expression and its parameters


def _sql_format(template: str, values: list[tuple[str, SqlValue]]) -> SqlValue:
    """An SQL expression that fills a %-template's placeholders with SQL expressions, as
    `template % values` would: the template and each placeholder are parameters, filled in
    the order given (those that may hold admins' text last, so nothing in them is taken for
    a placeholder)."""
    expression, params = "%s", [template.replace("%%", "%")]
    for placeholder, (value, value_params) in values:
        expression = f"REPLACE({expression}, %s, {value})"
        params += [placeholder, *value_params]
    return expression, params


def _signed(expression: str) -> SqlValue:
    """%+d in SQL."""
    return f"CASE WHEN {expression} >= 0 THEN '+' ELSE '' END || CAST({expression} AS TEXT)", []


def _new_reference_notes(batch_id: int | None) -> SqlValue:
    """The note of a staged row that starts its reference (derived.starts_reference), worded
    as _note words it when the ledger holds nothing for it. The row is d, its standard s, the
    label of its period l and of its streak's first period f, its outcome's word w."""
    delta = _signed("d.expected")
    standard = ("s.name", [])
    what = _sql_format(
        _("%(standard)s, %(period)s"), [("%(period)s", ("l.label", [])), ("%(standard)s", standard)]
    )
    streak = _sql_format(
        _("Streak bonus: %(standard)s, %(length)s periods in a row from %(first)s"),
        [
            ("%(length)s", ("CAST(d.length AS TEXT)", [])),
            ("%(first)s", ("f.label", [])),
            ("%(standard)s", standard),
        ],
    )
    cause = _(" after feed batch %(batch)s") % {"batch": batch_id} if batch_id else ""
    bonus, bonus_params = _sql_format(
        _("%(what)s%(cause)s: %(delta)+d"),
        [("%(delta)+d", delta), ("%(cause)s", ("%s", [cause])), ("%(what)s", streak)],
    )
    judged = [("%(delta)+d", delta), ("%(after)s", ("w.word", [])), ("%(what)s", what)]
    penalty, penalty_params = _sql_format(_("%(what)s: %(after)s: penalty %(delta)+d"), judged)
    earned, earned_params = _sql_format(_("%(what)s: %(after)s: %(delta)+d"), judged)
    return (
        f"CASE WHEN d.part = 'b' THEN {bonus} WHEN d.expected < 0 THEN {penalty} ELSE {earned} END",
        [*bonus_params, *penalty_params, *earned_params],
    )


def _new_references_append(batch_id: int | None) -> tuple[int, int]:
    """Append, in SQL, the staged references to start (derive(stage=True) left them in
    derived.STAGE), each with its first entry's key and note; returns (entries, points)."""
    starts = starts_reference("d")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT d.standard_id, CASE WHEN d.part = 'b' THEN d.first ELSE d.day END "
            f"FROM {STAGE} d WHERE {starts}"
        )
        days = cursor.fetchall()
    if not days:
        return 0, 0
    kinds = dict(
        ServiceStandard.objects.filter(pk__in={pk for pk, _ in days}).values_list("pk", "period")
    )
    language = settings.LANGUAGE_CODE
    labels = [
        (pk, day, _period_label(row_date(day), PeriodKind(kinds[pk]), language)) for pk, day in days
    ]
    words = [(outcome, _outcome_word(outcome, language)) for outcome in ("", *Evaluation.Outcome)]
    note, note_params = _new_reference_notes(batch_id)
    standards = connection.ops.quote_name(ServiceStandard._meta.db_table)
    label_rows = ", ".join(["(%s, %s, %s)"] * len(labels))
    word_rows = ", ".join(["(%s, %s)"] * len(words))
    select = f"""
        WITH labels (standard_id, day, label) AS (VALUES {label_rows}),
        words (outcome, word) AS (VALUES {word_rows})
        SELECT d.agent_id, d.expected,
            CASE WHEN d.part = 'b' THEN %s ELSE %s END, d.day, d.reference,
            {_derived_key_sql("d.agent_id", "d.reference")}, {note}, d.standard_id, d.outcome,
            NULL, %s
        FROM {STAGE} d
        JOIN {standards} s ON s.id = d.standard_id
        LEFT JOIN labels l ON l.standard_id = d.standard_id AND l.day = d.day
        LEFT JOIN labels f ON f.standard_id = d.standard_id AND f.day = d.first
        LEFT JOIN words w ON w.outcome = d.outcome
        WHERE {starts}
    """
    return entries_append_selected(
        select,
        [
            *(value for label in labels for value in label),
            *(value for word in words for value in word),
            PointsEntry.Kind.STREAK_BONUS.value,
            PointsEntry.Kind.STANDARD.value,
            *note_params,
            timezone.now(),
        ],
        earned=(
            f"SELECT d.agent_id, d.day, d.standard_id, d.expected FROM {STAGE} d WHERE {starts}"
        ),
        earned_params=[],
    )


def _penalty_clause(wanted: int, held: int) -> str:
    """What a correction does to a missed period's penalty (a standard entry below zero),
    so a negative delta never reads as points merely withdrawn."""
    if wanted < 0:
        return _(" (penalty %(penalty)+d)") % {"penalty": wanted}
    if held < 0:
        return _(" (the %(penalty)+d penalty given back)") % {"penalty": held}
    return ""


@dataclass
class _ChunkState:
    expected: dict[tuple[int, str], _Expected]
    held: dict[tuple[int, str], _Held]
    today: Callable[[int, date], date]


def _chunk_state(scope: ReconcileScope, agent_ids: list[int], *, stage: bool) -> _ChunkState:
    """The references whose implied points differ from the ledger's (derived, in SQL), and
    the agents' challenge prizes, as what each implies and what the ledger holds. With
    `stage`, the references to start stay in the stage (_new_references_append)."""
    spans = local_today_spans(agent_ids)
    derived_scope = DerivedScope(
        agent_ids=agent_ids,
        spans=spans,
        standard_ids=scope.standard_ids,
        first_period_start=scope.first_period_start,
        last_period_start=scope.last_period_start,
    )
    derivation = derive(derived_scope, stage=stage)
    differences = derivation.standard + derivation.streak_bonus
    standard_names = {
        pk: (name, PeriodKind(period))
        for pk, name, period in ServiceStandard.objects.filter(
            pk__in={d.standard_id for d in differences if d.standard_id is not None}
        ).values_list("pk", "name", "period")
    }
    outcomes = _held_outcomes([d for d in differences if d.entries])
    expected: dict[tuple[int, str], _Expected] = {}
    held: dict[tuple[int, str], _Held] = {}
    for difference in differences:
        key = (difference.agent_id, difference.reference)
        kind = difference.kind
        if difference.entries:
            held[key] = _Held(
                kind=kind,
                standard_id=difference.standard_id,
                earned_on=difference.earned_on,
                points=difference.held,
                count=difference.entries,
                outcome=outcomes.get(key, ""),
            )
        if difference.expected is None:
            continue
        name, period_kind = standard_names[difference.standard_id]
        expected[key] = _Expected(
            kind=kind,
            standard_id=difference.standard_id,
            earned_on=difference.earned_on,
            points=difference.expected,
            outcome=difference.outcome,
            what=(
                partial(
                    _streak_cause, name, difference.length, difference.streak_start, period_kind
                )
                if kind == PointsEntry.Kind.STREAK_BONUS
                else partial(_evaluation_cause, name, difference.earned_on, period_kind)
            ),
        )
    for prize in challenge_prizes_implied(agent_ids):
        expected[(prize.agent_id, prize.reference)] = _Expected(
            kind=PointsEntry.Kind.CHALLENGE_PRIZE,
            standard_id=None,
            earned_on=prize.earned_on,
            points=prize.points,
            outcome="",
            what=partial(str, prize.note),
        )
    for agent_id, reference, earned_on, points in (
        PointsEntry.objects.filter(kind=PointsEntry.Kind.CHALLENGE_PRIZE, agent_id__in=agent_ids)
        .order_by("id")
        .values_list("agent_id", "reference", "earned_on", "points")
    ):
        entry = held.setdefault(
            (agent_id, reference), _Held(PointsEntry.Kind.CHALLENGE_PRIZE, None, earned_on)
        )
        entry.points += points
        entry.count += 1
    return _ChunkState(expected, held, today_resolver(spans))


def _held_outcomes(differences: list[Difference]) -> dict[tuple[int, str], str]:
    """The outcome the last entry of each corrected reference recorded, for its note."""
    if not differences:
        return {}
    wanted = {(d.agent_id, d.reference) for d in differences}
    outcomes = {}
    for agent_id, reference, outcome in (
        PointsEntry.objects.filter(
            agent_id__in={agent_id for agent_id, _ in wanted},
            reference__in={reference for _, reference in wanted},
        )
        .order_by("id")
        .values_list("agent_id", "reference", "outcome")
    ):
        if (agent_id, reference) in wanted:
            outcomes[(agent_id, reference)] = outcome
    return outcomes


def _streaks_store() -> int:
    """Make the chunk's stored streaks what its closed periods imply: the stale ones
    derive(stage=True) left in derived.STAGE (part 'c': current and best in expected and
    held, the stored row's id in entries); returns how many rows changed."""
    table = connection.ops.quote_name(AgentStreak._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN "
            f"(SELECT entries FROM {STAGE} WHERE part = 'c' AND expected IS NULL)"
        )
        deleted = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (agent_id, standard_id, current, best, updated_at) "
            f"SELECT agent_id, standard_id, expected, held, %s FROM {STAGE} "
            "WHERE part = 'c' AND expected IS NOT NULL "
            "ON CONFLICT (agent_id, standard_id) DO UPDATE SET current = excluded.current, "
            "best = excluded.best, updated_at = excluded.updated_at",
            [timezone.now()],
        )
        return deleted + cursor.rowcount


def _chunks(agent_ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(agent_ids), AGENTS_PER_CHUNK):
        yield agent_ids[start : start + AGENTS_PER_CHUNK]


def _scope_agent_ids(scope: ReconcileScope) -> list[int]:
    if scope.agent_ids is not None:
        return sorted(set(scope.agent_ids))
    return list(Agent.objects.order_by("pk").values_list("pk", flat=True))


def _differences(
    expected: dict[tuple[int, str], _Expected],
    held: dict[tuple[int, str], _Held],
    batch_id: int | None,
    discrepancies: list[Discrepancy],
    note: Callable[[str, _Expected | None, _Held | None, int, int | None], str],
) -> list[NewEntry]:
    """The entries that move the ledger from `held` to `expected`, per reference."""
    new_entries = []
    for key in sorted(expected.keys() | held.keys()):
        want, have = expected.get(key), held.get(key)
        held_points = have.points if have else 0
        delta = (want.points if want else 0) - held_points
        if delta == 0:
            continue
        agent_id, reference = key
        discrepancies.append(Discrepancy(agent_id, reference, held_points, held_points + delta))
        new_entries.append(
            NewEntry(
                agent_id=agent_id,
                points=delta,
                kind=want.kind if want else have.kind,
                earned_on=want.earned_on if want else have.earned_on,
                reference=reference,
                idempotency_key=derived_key(agent_id, reference, have.count if have else 0),
                note=note(reference, want, have, delta, batch_id),
                standard_id=want.standard_id if want else have.standard_id,
                outcome=want.outcome if want else "",
            )
        )
    return new_entries


def _evaluation_note(
    reference: str, expected: _Expected | None, held: _Held | None, delta: int, batch_id: int | None
) -> str:
    return _note(expected, held, delta, batch_id)


def _badge_note(
    names: dict[str, str],
    reference: str,
    expected: _Expected | None,
    held: _Held | None,
    delta: int,
    batch_id: int | None,
) -> str:
    name = names[reference[: reference.rindex(":")]]
    if expected is None:
        cause = _(" after feed batch %(batch)s") % {"batch": batch_id} if batch_id else ""
        return _("Badge withdrawn: %(badge)s: its evidence changed%(cause)s: %(delta)+d") % {
            "badge": name,
            "cause": cause,
            "delta": delta,
        }
    if held is not None and held.count:
        return _("Badge %(badge)s now earns %(points)s points: %(delta)+d") % {
            "badge": name,
            "points": expected.points,
            "delta": delta,
        }
    return _("Badge %(badge)s: %(evidence)s: %(delta)+d") % {
        "badge": name,
        "evidence": expected.what(),
        "delta": delta,
    }


def _badge_state(
    agent_ids: list[int], run: BadgeRun, state: _ChunkState, pending: list[NewEntry]
) -> tuple[dict[tuple[int, str], _Expected], dict[tuple[int, str], _Held], list[BadgeAward]]:
    """What the chunk's badges imply and what the ledger holds for the active ones."""
    awards = badges_derive(agent_ids, run, today=state.today, pending=pending)
    expected = {
        (award.agent_id, award.reference): _Expected(
            kind=PointsEntry.Kind.BADGE,
            standard_id=None,
            earned_on=award.earned_on,
            points=award.badge.points,
            outcome="",
            what=partial(str, award.evidence),
        )
        for award in awards
        if award.badge.points
    }
    active = {f"badge:{badge.pk}" for badge in run.badges}
    held: dict[tuple[int, str], _Held] = {}
    for agent_id, reference, earned_on, points in (
        PointsEntry.objects.filter(kind=PointsEntry.Kind.BADGE, agent_id__in=agent_ids)
        .order_by("id")
        .values_list("agent_id", "reference", "earned_on", "points")
    ):
        if reference[: reference.rindex(":")] not in active:
            continue  # an inactive or removed badge: what it earned stays
        entry = held.setdefault(
            (agent_id, reference), _Held(PointsEntry.Kind.BADGE, None, earned_on)
        )
        entry.points += points
        entry.count += 1
    return expected, held, awards


def _top_places_moved(before: BadgeRun, after: BadgeRun) -> set[int]:
    """The agents whose finishes in the top places of closed leaderboard windows differ
    between two reads: points written for one agent in a closed window move others in or
    out of its top places, and with them their badges."""
    moved: set[int] = set()
    for badge_id in before.top_places.keys() | after.top_places.keys():
        was, now = before.top_places.get(badge_id, {}), after.top_places.get(badge_id, {})
        moved.update(
            agent_id
            for agent_id in was.keys() | now.keys()
            if sorted(was.get(agent_id, [])) != sorted(now.get(agent_id, []))
        )
    return moved


# Top places moved by a scoped run are followed this many times in the same call (each round
# may move badge points, and so places, again); whatever is left, the nightly run settles.
TOP_PLACE_ROUNDS = 3


def reconcile(scope: ReconcileScope = ReconcileScope(), *, check: bool = False) -> ReconcileResult:
    """Append what the ledger lacks (or, with check, only list it), a chunk of agents per
    transaction, each chunk under its agents' locks: first the evaluations' points and
    streak bonuses, then the badges the chunk's points and evidence earn. A run for some
    agents then reconciles the others whose top places on a closed window its points moved."""
    before = BadgeRun.load(today=timezone.localdate())
    result = _reconcile_chunks(scope, before, check=check)
    if check or scope.agent_ids is None:
        return result
    # The scope's own agents too: their chunks judged top places as they were before.
    written = result.entries
    for _ in range(TOP_PLACE_ROUNDS):
        if not written:
            break
        after = BadgeRun.load(today=timezone.localdate())
        moved = _top_places_moved(before, after)
        if not moved:
            break
        followed = _reconcile_chunks(
            ReconcileScope(agent_ids=tuple(sorted(moved)), batch_id=scope.batch_id),
            after,
            check=False,
        )
        before, written = after, followed.entries
        result.agents += followed.agents
        result.entries += followed.entries
        result.points += followed.points
        result.discrepancies += followed.discrepancies
    return result


def _reconcile_chunks(
    scope: ReconcileScope, badge_run: BadgeRun, *, check: bool
) -> ReconcileResult:
    """The chunks of one scope, their badges judged on `badge_run` (read before they write)."""
    result = ReconcileResult()
    unanalyzed = {PointsEntry: 0, AgentStreak: 0}
    # Notes are kept in the site's language, whoever's request or task writes them.
    with translation.override(settings.LANGUAGE_CODE):
        for agent_ids in _chunks(_scope_agent_ids(scope)):
            result.agents += len(agent_ids)
            with transaction.atomic():
                if not check:
                    balances_lock(agent_ids)
                state = _chunk_state(scope, agent_ids, stage=not check)
                # A check run lists what differs; a run that writes only counts it.
                discrepancies = result.discrepancies if check else []
                new_entries = _differences(
                    state.expected, state.held, scope.batch_id, discrepancies, _evaluation_note
                )
                started = (0, 0)
                if not check:
                    started = _new_references_append(scope.batch_id)
                    entries_append(new_entries)
                    unanalyzed[AgentStreak] += _streaks_store()
                expected, held, awards = _badge_state(
                    agent_ids, badge_run, state, [] if not check else new_entries
                )
                badge_entries = _differences(
                    expected,
                    held,
                    scope.batch_id,
                    discrepancies,
                    partial(_badge_note, badge_run.names),
                )
                if not check:
                    entries_append(badge_entries)
                    earned = agent_badges_store(agent_ids, badge_run, awards)
                    badges_earned_notify(earned, today=timezone.localdate())
                    written = [*new_entries, *badge_entries]
                    result.entries += started[0] + len(written)
                    result.points += started[1] + sum(entry.points for entry in written)
                    unanalyzed[PointsEntry] += started[0] + len(written)
            # The next chunks' reads are planned on the tables this run grows.
            for model, written_rows in unanalyzed.items():
                if statistics_refresh(model, written_rows):
                    unanalyzed[model] = 0
    return result
