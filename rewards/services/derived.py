"""What the current evaluations of a chunk of agents imply for the ledger, compared with
what it holds, in SQL: reconciliation reads only the references that differ, so one with
nothing to do reads (almost) nothing. The same statements run on PostgreSQL and SQLite.

Closedness and streaks follow the Python definitions they stand for:
performance.selectors.earns (which periods earn, break or are skipped), local_today_spans
(a period is closed once its exclusive end is on or before today in the agent's team zone)
and rewards.services.streaks (runs, bonuses at configured lengths, current and best);
tests/rewards/test_derived.py holds them to those definitions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection

from performance.bulk import row_date, sql_in
from performance.models import Evaluation
from performance.selectors import LocalTodaySpan
from rewards.models import AgentStreak, PointsEntry, StreakBonus

EVALUATION = connection.ops.quote_name(Evaluation._meta.db_table)
LEDGER = connection.ops.quote_name(PointsEntry._meta.db_table)
STREAK = connection.ops.quote_name(AgentStreak._meta.db_table)
BONUS = connection.ops.quote_name(StreakBonus._meta.db_table)

MISSED = Evaluation.Outcome.MISSED.value
EARNING = (Evaluation.Outcome.MET.value, Evaluation.Outcome.EXCEEDED.value)


@dataclass(frozen=True)
class DerivedScope:
    agent_ids: Sequence[int]
    spans: Sequence[LocalTodaySpan]
    standard_ids: Sequence[int] | None = None
    first_period_start: date | None = None
    last_period_start: date | None = None


@dataclass(frozen=True)
class Difference:
    """A reference whose implied points differ from the ledger's sum for it."""

    kind: str  # PointsEntry.Kind: standard or streak bonus
    agent_id: int
    standard_id: int | None
    earned_on: date
    reference: str
    expected: int | None  # None: nothing implies the reference any more
    outcome: str  # the evaluation's outcome once closed, else ''
    held: int
    entries: int
    # Streak bonuses only: the bonus length and the streak's first period.
    length: int | None = None
    streak_start: date | None = None


def _agents_and_standards(scope: DerivedScope, prefix: str = "") -> tuple[list[str], list]:
    """The scope's agents (and standards, when given) as WHERE clauses on a table."""
    where, params = sql_in(f"{prefix}agent_id", scope.agent_ids)
    clauses = [where]
    if scope.standard_ids is not None:
        clause, values = sql_in(f"{prefix}standard_id", scope.standard_ids)
        clauses.append(clause)
        params += values
    return clauses, params


def _closed_evaluations(scope: DerivedScope) -> tuple[str, list]:
    """The chunk's evaluations (every period) joined to their local today: (agent_id,
    standard_id, period_start, in_range, closed, points, outcome, earns), earns being 1, 0
    or NULL; in_range says whether the scope's period range holds the period."""
    spans = ", ".join(["(%s, %s, %s, %s)"] * len(scope.spans))
    params: list = [v for s in scope.spans for v in (s.agent_id, s.first, s.until, s.today)]
    where, where_params = _agents_and_standards(scope, "e.")
    in_range = ["1 = 1"]
    range_params: list = []
    if scope.first_period_start is not None:
        in_range.append("e.period_start >= %s")
        range_params.append(scope.first_period_start)
    if scope.last_period_start is not None:
        in_range.append("e.period_start <= %s")
        range_params.append(scope.last_period_start)
    sql = f"""
        today_of (agent_id, first_day, until_day, today) AS (VALUES {spans}),
        judged AS (
            SELECT e.agent_id, e.standard_id, e.period_start, e.points, e.outcome,
                CASE WHEN {" AND ".join(in_range)} THEN 1 ELSE 0 END AS in_range,
                CASE WHEN e.period_end <= t.today THEN 1 ELSE 0 END AS closed,
                CASE WHEN e.gate_passed = FALSE OR e.outcome = %s THEN 0
                     WHEN e.outcome IN (%s, %s) THEN 1 END AS earns
            FROM {EVALUATION} e
            JOIN today_of t ON t.agent_id = e.agent_id
                AND e.period_start >= t.first_day AND e.period_start < t.until_day
            WHERE {" AND ".join(where)}
        )"""
    return sql, [*params, *range_params, MISSED, *EARNING, *where_params]


def _ledger_filter(scope: DerivedScope, kind: str, *, in_range: bool) -> tuple[str, list]:
    clauses, params = _agents_and_standards(scope)
    where = ["kind = %s", *clauses]
    params = [kind, *params]
    if in_range and scope.first_period_start is not None:
        where.append("earned_on >= %s")
        params.append(scope.first_period_start)
    if in_range and scope.last_period_start is not None:
        where.append("earned_on <= %s")
        params.append(scope.last_period_start)
    return " AND ".join(where), params


@dataclass(frozen=True)
class StreakChange:
    agent_id: int
    standard_id: int
    current: int | None  # None: no closed period of the standard any more; drop the row
    best: int | None
    stored_id: int | None


@dataclass
class Derivation:
    standard: list[Difference]  # evaluation references of the scope's periods
    streak_bonus: list[Difference]  # every streak bonus of the scope's standards
    streaks: list[StreakChange]  # (agent, standard) pairs whose stored streak is stale


def _text(expression: str) -> str:
    """A date as its ISO text (SQLite keeps dates as text already)."""
    return f"CAST({expression} AS TEXT)" if connection.vendor == "postgresql" else expression


# The references the ledger keys entries by ("evaluation:<standard>:<period start>",
# "streak:<standard>:<first period>:<length>"), built where the rows are.
EVALUATION_REFERENCE = "'evaluation:' || CAST({standard} AS TEXT) || ':' || {day}"
STREAK_REFERENCE = (
    "'streak:' || CAST({standard} AS TEXT) || ':' || {first} || ':' || CAST({length} AS TEXT)"
)

# Rows of the derivation: (part: 's' standard, 'b' streak bonus, 'c' stored streak stale;
# agent_id, standard_id, day, reference, expected, outcome, held, entries, length, first).
STAGE = "rewards_derived_stage"
STAGE_COLUMNS = (
    "part",
    "agent_id",
    "standard_id",
    "day",
    "reference",
    "expected",
    "outcome",
    "held",
    "entries",
    "length",
    "first",
)


def starts_reference(row: str) -> str:
    """Whether a staged row starts its reference: points implied, nothing in the ledger yet."""
    return f"{row}.part IN ('s', 'b') AND {row}.entries = 0 AND {row}.expected IS NOT NULL"


def _derivation(scope: DerivedScope) -> tuple[str, list]:
    judged, params = _closed_evaluations(scope)
    standard_where, standard_params = _ledger_filter(
        scope, PointsEntry.Kind.STANDARD, in_range=True
    )
    bonus_where, bonus_params = _ledger_filter(scope, PointsEntry.Kind.STREAK_BONUS, in_range=False)
    stored_where, stored_params = _agents_and_standards(scope)
    bonus_reference = STREAK_REFERENCE.format(
        standard="r.standard_id", first=_text("r.first"), length="b.length"
    )
    standard_reference = EVALUATION_REFERENCE.format(
        standard="COALESCE(x.standard_id, h.standard_id)",
        day=_text("COALESCE(x.period_start, h.earned_on)"),
    )
    sql = f"""
        WITH {judged},
        held AS (
            SELECT agent_id, standard_id, earned_on, SUM(points) AS points, COUNT(*) AS entries
            FROM {LEDGER} WHERE {standard_where}
            GROUP BY agent_id, standard_id, earned_on
        ),
        paid AS (
            SELECT agent_id, standard_id, period_start, points, outcome, closed
            FROM judged WHERE in_range = 1
        ),
        islands AS (
            SELECT agent_id, standard_id, period_start, earns,
                SUM(CASE WHEN earns = 0 THEN 1 ELSE 0 END) OVER (
                    PARTITION BY agent_id, standard_id ORDER BY period_start
                    ROWS UNBOUNDED PRECEDING
                ) AS island
            FROM judged WHERE closed = 1
        ),
        runs AS (
            SELECT agent_id, standard_id, period_start, island,
                ROW_NUMBER() OVER (
                    PARTITION BY agent_id, standard_id, island ORDER BY period_start
                ) AS position,
                MIN(period_start) OVER (PARTITION BY agent_id, standard_id, island) AS first
            FROM islands WHERE earns = 1
        ),
        bonuses AS (
            SELECT r.agent_id, r.standard_id, r.period_start, b.points, b.length, r.first,
                {bonus_reference} AS reference
            FROM runs r JOIN {BONUS} b ON b.standard_id = r.standard_id AND b.length = r.position
        ),
        held_bonuses AS (
            SELECT agent_id, reference, MIN(standard_id) AS standard_id,
                MIN(earned_on) AS earned_on, SUM(points) AS points, COUNT(*) AS entries
            FROM {LEDGER} WHERE {bonus_where}
            GROUP BY agent_id, reference
        ),
        lengths AS (
            SELECT agent_id, standard_id, island,
                SUM(CASE WHEN earns = 1 THEN 1 ELSE 0 END) AS n
            FROM islands GROUP BY agent_id, standard_id, island
        ),
        ranked AS (
            SELECT agent_id, standard_id, n,
                MAX(n) OVER (PARTITION BY agent_id, standard_id) AS best,
                ROW_NUMBER() OVER (
                    PARTITION BY agent_id, standard_id ORDER BY island DESC
                ) AS latest
            FROM lengths
        ),
        state AS (
            SELECT agent_id, standard_id, n AS current, best FROM ranked WHERE latest = 1
        ),
        stored AS (
            SELECT id, agent_id, standard_id, current, best FROM {STREAK}
            WHERE {" AND ".join(stored_where)}
        )
        SELECT 's' AS part, COALESCE(x.agent_id, h.agent_id) AS agent_id,
            COALESCE(x.standard_id, h.standard_id) AS standard_id,
            COALESCE(x.period_start, h.earned_on) AS day, {standard_reference} AS reference,
            CASE WHEN x.closed = 1 THEN x.points WHEN x.agent_id IS NOT NULL THEN 0 END
                AS expected,
            CASE WHEN x.closed = 1 THEN x.outcome ELSE '' END AS outcome,
            COALESCE(h.points, 0) AS held, COALESCE(h.entries, 0) AS entries,
            CAST(NULL AS INTEGER) AS length, CAST(NULL AS DATE) AS first
        FROM paid x
        FULL OUTER JOIN held h ON h.agent_id = x.agent_id AND h.standard_id = x.standard_id
            AND h.earned_on = x.period_start
        WHERE COALESCE(CASE WHEN x.closed = 1 THEN x.points END, 0) <> COALESCE(h.points, 0)
        UNION ALL
        SELECT 'b', COALESCE(x.agent_id, h.agent_id), COALESCE(x.standard_id, h.standard_id),
            COALESCE(x.period_start, h.earned_on), COALESCE(x.reference, h.reference),
            x.points, '', COALESCE(h.points, 0), COALESCE(h.entries, 0), x.length, x.first
        FROM bonuses x
        FULL OUTER JOIN held_bonuses h ON h.agent_id = x.agent_id AND h.reference = x.reference
        WHERE COALESCE(x.points, 0) <> COALESCE(h.points, 0)
        UNION ALL
        SELECT 'c', COALESCE(x.agent_id, s.agent_id), COALESCE(x.standard_id, s.standard_id),
            NULL, NULL, x.current, '', x.best, s.id, NULL, NULL
        FROM state x
        FULL OUTER JOIN stored s ON s.agent_id = x.agent_id AND s.standard_id = x.standard_id
        WHERE x.agent_id IS NULL OR s.id IS NULL OR x.current <> s.current OR x.best <> s.best
    """
    return sql, params + standard_params + bonus_params + stored_params


def derive(scope: DerivedScope, *, stage: bool = False) -> Derivation:
    """One statement over the chunk's evaluations and ledger entries: the evaluation
    references whose closed points differ from the ledger's (a period under way implies 0:
    its points are provisional), the streak bonus references that differ (over every period:
    a correction may break or complete a later streak), and the (agent, standard) pairs whose
    current or best streak differs from the stored one (every pair with a closed period has
    a row, 0 and 0 when nothing was earned yet).

    With `stage`, the references to start (starts_reference: most of a run's, every one of a
    first run's) and the stale streaks stay in the STAGE table, for the ledger and the
    streaks to be written in SQL, and are not returned; the stage holds them until the
    next derive."""
    sql, params = _derivation(scope)
    with connection.cursor() as cursor:
        if not stage:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        else:
            # CREATE TABLE AS, not INSERT ... SELECT: PostgreSQL plans no parallel workers
            # for a query that writes, and this one reads the chunk's every evaluation.
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} AS {sql}", params)
            if connection.vendor == "postgresql":
                # No autovacuum for temporary tables: the append's joins are planned on this.
                cursor.execute(f"ANALYZE {STAGE}")
            cursor.execute(
                f"SELECT {', '.join(STAGE_COLUMNS)} FROM {STAGE} d "
                f"WHERE d.part <> 'c' AND NOT ({starts_reference('d')})"
            )
            rows = cursor.fetchall()
    derivation = Derivation(standard=[], streak_bonus=[], streaks=[])
    for (
        part,
        agent_id,
        standard_id,
        day,
        reference,
        expected,
        outcome,
        held,
        entries,
        length,
        first,
    ) in rows:
        if part == "c":
            derivation.streaks.append(StreakChange(agent_id, standard_id, expected, held, entries))
            continue
        day = row_date(day)
        if part == "s":
            derivation.standard.append(
                Difference(
                    kind=PointsEntry.Kind.STANDARD,
                    agent_id=agent_id,
                    standard_id=standard_id,
                    earned_on=day,
                    reference=reference,
                    expected=expected,
                    outcome=outcome,
                    held=held,
                    entries=entries,
                )
            )
        else:
            derivation.streak_bonus.append(
                Difference(
                    kind=PointsEntry.Kind.STREAK_BONUS,
                    agent_id=agent_id,
                    standard_id=standard_id,
                    earned_on=day,
                    reference=reference,
                    expected=expected,
                    outcome="",
                    held=held,
                    entries=entries,
                    length=length,
                    streak_start=row_date(first),
                )
            )
    return derivation
