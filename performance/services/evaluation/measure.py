"""Measuring: every standard's numbers per agent and period, from grouped queries.

The facts are read once, grouped by agent and local day, whatever the standards' channels,
periods and time zones: each aggregate filters its own channel, each fact's local day comes
from the zone of the team its agent was in when it happened (the current team's for agents
that never moved; a branch per membership only for those that did), and weeks and months
are the sums of their days. Only aggregates that do not add up (distinct counts) get a
grouped query per period kind. Rows are streamed from the database and only the columns
each period kind reads are kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import NotSupportedError, connection, transaction
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    DateField,
    F,
    Func,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Expression

from performance.metrics import METRICS, Ratio
from performance.models import Interaction
from performance.periods import PeriodKind, period_containing

if TYPE_CHECKING:
    from performance.services.evaluation.engine import AgentScope, StandardPlan

VALUE_DECIMALS = 6
# PostgreSQL memory for the grouped queries' hash tables and sorts (the default, 4MB,
# spills a month of 10,000 agents' days to disk).
GROUPING_WORK_MEM = "64MB"
FETCH_CHUNK = 5000


class LocalPeriodStart(Func):
    """The first day of the period of `kind` holding a timestamp in a time zone given per
    row (the agent's team zone), as a date: Trunc with a zone that varies by row."""

    output_field = DateField()

    def __init__(self, kind: PeriodKind, timestamp: str, zone: Expression) -> None:
        super().__init__(F(timestamp), zone)
        self.kind = PeriodKind(kind)

    def _compiled(self, compiler, connection) -> tuple[str, str, list]:
        timestamp, zone = self.get_source_expressions()
        timestamp_sql, timestamp_params = compiler.compile(timestamp)
        zone_sql, zone_params = compiler.compile(zone)
        return timestamp_sql, zone_sql, [*timestamp_params, *zone_params]

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"local periods are not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        timestamp, zone, params = self._compiled(compiler, connection)
        return f"DATE_TRUNC('{self.kind.value}', {timestamp} AT TIME ZONE {zone})::date", params

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django's own date truncation function, with the zone read from the row.
        timestamp, zone, params = self._compiled(compiler, connection)
        return (
            f"django_date_trunc('{self.kind.value}', {timestamp}, {zone}, %s)",
            [*params, connection.timezone_name],
        )


# For an agent that moved team: where each membership starts (the first one: None, from the
# beginning) and its zone, in order.
MovedZones = dict[int, list[tuple[datetime | None, str]]]


class AgentZone(Func):
    """The time zone of a fact's agent, from a mapping of zone -> agent ids (PostgreSQL):
    a hashed array lookup per row, much cheaper than joining agents and teams. Agents that
    moved team (`moved`) are looked up first, and only they get a branch per membership
    reading the fact's time."""

    output_field = CharField()

    def __init__(self, agent_ids_by_zone: dict[str, list[int]], moved: MovedZones) -> None:
        super().__init__(F("agent_id"), F("started_at"))
        self.zones = sorted(agent_ids_by_zone.items())
        self.moved = sorted(moved.items())

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"agent zones are not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        agent, started_at = self.get_source_expressions()
        agent_sql, agent_params = compiler.compile(agent)
        started_sql, started_params = compiler.compile(started_at)
        # Typed like the column: PostgreSQL hashes `= ANY(array)` only for the column's own
        # type (a list of small ids would otherwise go as int2[] and be searched linearly).
        array_type = Interaction._meta.get_field("agent").target_field.db_type(connection)
        cases, params = [], []
        if self.moved:
            branches, branch_params = [], []
            for agent_id, spans in self.moved:
                for starts_at, zone in reversed(spans):
                    if starts_at is None:
                        branches.append(f"WHEN {agent_sql} = %s THEN %s")
                        branch_params += [*agent_params, agent_id, zone]
                    else:
                        branches.append(f"WHEN {agent_sql} = %s AND {started_sql} >= %s THEN %s")
                        branch_params += [*agent_params, agent_id, *started_params, starts_at, zone]
            cases.append(
                f"WHEN {agent_sql} = ANY(%s::{array_type}[]) THEN (CASE {' '.join(branches)} END)"
            )
            params += [*agent_params, [agent_id for agent_id, _ in self.moved], *branch_params]
        if not self.zones:
            tested, last_zone = [], "UTC"
        else:
            *tested, (last_zone, _) = self.zones
        cases += [f"WHEN {agent_sql} = ANY(%s::{array_type}[]) THEN %s" for _ in tested]
        params += [value for zone, ids in tested for value in (*agent_params, ids, zone)]
        if not cases:
            return "%s", [last_zone]
        # The last zone takes every other agent: facts of agents outside the run are
        # measured but never judged.
        return f"(CASE {' '.join(cases)} ELSE %s END)", [*params, last_zone]


def moved_agent_zone(moved: MovedZones) -> Expression:
    """The zone of a fact's agent on SQLite: the current team's, by a join, except for
    agents that moved team, whose membership at the fact's time decides."""
    branches = [
        When(
            Q(agent_id=agent_id) & (Q() if starts_at is None else Q(started_at__gte=starts_at)),
            then=Value(zone),
        )
        for agent_id, spans in sorted(moved.items())
        for starts_at, zone in reversed(spans)
    ]
    current = F("agent__team__time_zone")
    return Case(*branches, default=current, output_field=CharField()) if branches else current


@dataclass(frozen=True, slots=True)
class Reader:
    """Where one standard's numbers (for one threshold) sit in a grouped row."""

    numerator: int
    denominator: int | None
    sample: int
    # A column counting the rows of the standard's channel; None: every row counts.
    presence: int | None
    ratio: Ratio

    def read(self, row: tuple) -> tuple[float | None, int]:
        """(value, sample size) from a row holding the standard's numbers."""
        value = self.ratio.value(
            row[self.numerator], None if self.denominator is None else row[self.denominator]
        )
        return None if value is None else round(value, VALUE_DECIMALS), row[self.sample]


@cache
def _as_date(text: str) -> date:
    return date.fromisoformat(text)


def _adds_up(aggregate: Aggregate) -> bool:
    """Whether a period's value is the sum of its days' values (a distinct count is not)."""
    return isinstance(aggregate, Count | Sum) and not aggregate.distinct


Rows = dict[tuple[int, date], tuple]  # (agent, period start) -> the row, or the columns kept


@dataclass(eq=False)
class _GroupedQuery:
    """The aggregate columns of one grouped query, each computed once however many
    standards read it (rows start with the agent and the period start)."""

    kind: PeriodKind
    columns: dict[Aggregate, int] = field(default_factory=dict)

    def column(self, aggregate: Aggregate) -> int:
        return self.columns.setdefault(aggregate, 2 + len(self.columns))

    def reader(self, ratio: Ratio, channel: str) -> Reader:
        return Reader(
            numerator=self.column(ratio.numerator),
            denominator=None if ratio.denominator is None else self.column(ratio.denominator),
            sample=self.column(ratio.sample),
            presence=self.column(Count("id", filter=Q(channel=channel))) if channel else None,
            ratio=ratio,
        )

    def rows(
        self, agents: list[AgentScope], *, since: date, until: date, restrict_agents: bool
    ) -> Iterator[tuple]:
        """(agent, period start, *columns) per agent and period with facts."""
        zones: dict[str, list[int]] = defaultdict(list)
        moved: MovedZones = {}
        every_zone = set()
        for agent in agents:
            if agent.memberships:
                moved[agent.agent_id] = [
                    (None if index == 0 else span.starts_at(), span.time_zone)
                    for index, span in enumerate(agent.memberships)
                ]
                every_zone.update(span.time_zone for span in agent.memberships)
            else:
                zones[agent.time_zone].append(agent.agent_id)
                every_zone.add(agent.time_zone)
        first, last = period_containing(since, self.kind), period_containing(until, self.kind)
        # From the earliest zone's first midnight to the latest zone's last one: a fact
        # beyond its own zone's bounds falls in a period outside the range, never judged.
        facts = Interaction.objects.filter(
            started_at__gte=min(first.bounds(ZoneInfo(zone))[0] for zone in every_zone),
            started_at__lt=max(last.bounds(ZoneInfo(zone))[1] for zone in every_zone),
        )
        if restrict_agents:
            facts = facts.filter(agent_id__in=[agent.agent_id for agent in agents])
        zone = (
            AgentZone(zones, moved)
            if connection.vendor == "postgresql"
            else moved_agent_zone(moved)
        )
        grouped = (
            facts.annotate(period_start=LocalPeriodStart(self.kind, "started_at", zone))
            .values_list("agent_id", "period_start")
            .annotate(**{f"c{position}": aggregate for aggregate, position in self.columns.items()})
            .order_by()
        )
        # Read with a plain cursor, a chunk at a time: a QuerySet would keep every row (and
        # apply a converter to each value, when the driver already gives numbers and dates).
        sql, params = grouped.query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config('work_mem', %s, true)", [GROUPING_WORK_MEM])
                # Streamed in chunks: libpq would otherwise hold the whole result at once.
                with connection.wrap_database_errors:
                    yield from cursor.cursor.stream(sql, params, size=FETCH_CHUNK)
                return
            cursor.execute(sql, params)
            while chunk := cursor.fetchmany(FETCH_CHUNK):
                # SQLite gives the local date as text.
                yield from ((row[0], _as_date(row[1]), *row[2:]) for row in chunk)


class _Narrowed:
    """The columns some readers read from a grouped query's rows, and the readers moved onto
    them, so a long run keeps small rows. Rolling up to a period kind sums days' rows into
    the periods holding them (a missing sum counts 0, as it does in a value)."""

    def __init__(self, readers: Collection[Reader], roll_up_to: PeriodKind | None) -> None:
        used = sorted(
            {
                position
                for reader in readers
                for position in (
                    reader.numerator,
                    reader.denominator,
                    reader.sample,
                    reader.presence,
                )
                if position is not None
            }
        )
        moved_to = {position: index for index, position in enumerate(used)}
        self.readers = {
            reader: replace(
                reader,
                numerator=moved_to[reader.numerator],
                denominator=None if reader.denominator is None else moved_to[reader.denominator],
                sample=moved_to[reader.sample],
                presence=None if reader.presence is None else moved_to[reader.presence],
            )
            for reader in readers
        }
        self.pick = itemgetter(*used) if len(used) > 1 else lambda row: (row[used[0]],)
        self.roll_up_to = roll_up_to
        self.rows: Rows = {}
        self.days: dict[tuple[int, date], list[tuple]] = defaultdict(list)
        self.starts: dict[date, date] = {}

    def add(self, row: tuple) -> None:
        if self.roll_up_to is None:
            self.rows[(row[0], row[1])] = self.pick(row)
            return
        start = self.starts.get(row[1])
        if start is None:
            start = self.starts[row[1]] = period_containing(row[1], self.roll_up_to).start
        self.days[(row[0], start)].append(self.pick(row))

    def finish(self) -> Rows:
        if self.days:
            self.rows = {
                key: tuple(sum(filter(None, column)) for column in zip(*days, strict=True))
                for key, days in self.days.items()
            }
            self.days.clear()
        return self.rows


@dataclass
class Measurements:
    """Per (standard, threshold): the grouped rows of its period kind, keyed by (agent,
    period start), and where it reads its numbers in them."""

    readers: dict[tuple[int, int | None], tuple[Rows, Reader]] = field(default_factory=dict)


def measure(
    plans: list[StandardPlan],
    agents: list[AgentScope],
    *,
    since: date,
    until: date,
    restrict_agents: bool,
) -> Measurements:
    """Every (standard, threshold)'s numbers per agent and period.

    One grouped query by local day computes every aggregate that adds up (counts, sums) for
    every standard, channel and time zone from one scan of the facts; weeks and months are
    the sums of their days. Aggregates that do not add up (distinct counts) get a grouped
    query per period kind of their own.
    """
    measurements = Measurements()
    if not agents or not plans:
        return measurements
    daily = _GroupedQuery(PeriodKind.DAY)
    own: dict[PeriodKind, _GroupedQuery] = {}
    readers: dict[tuple[int, int | None], tuple[PeriodKind, _GroupedQuery, Reader]] = {}
    for plan in plans:
        for threshold in plan.thresholds():
            ratio = METRICS[plan.metric].ratio(threshold, channel=plan.channel)
            parts = [ratio.numerator, ratio.denominator, ratio.sample]
            if plan.period is PeriodKind.DAY or all(
                _adds_up(part) for part in parts if part is not None
            ):
                query = daily
            else:
                query = own.setdefault(plan.period, _GroupedQuery(plan.period))
            readers[(plan.standard_id, threshold)] = (
                plan.period,
                query,
                query.reader(ratio, plan.channel),
            )

    # The days of every period in range: a week or a month reaches beyond [since, until].
    kinds = {plan.period for plan in plans}
    first_day = min(period_containing(since, kind).start for kind in kinds)
    last_day = max(period_containing(until, kind).end for kind in kinds) - timedelta(days=1)
    by_source: dict[tuple[PeriodKind, _GroupedQuery], list[Reader]] = defaultdict(list)
    for kind, query, reader in readers.values():
        by_source[(kind, query)].append(reader)
    narrowed = {
        (kind, query): _Narrowed(kind_readers, kind if query.kind is not kind else None)
        for (kind, query), kind_readers in by_source.items()
    }
    for query in [daily, *own.values()]:
        if not query.columns:
            continue
        # One pass over the grouped rows feeds every period kind that reads them.
        targets = [target for (_, source), target in narrowed.items() if source is query]
        for row in query.rows(
            agents,
            since=first_day if query is daily else since,
            until=last_day if query is daily else until,
            restrict_agents=restrict_agents,
        ):
            for target in targets:
                target.add(row)
    for key, (kind, query, reader) in readers.items():
        target = narrowed[(kind, query)]
        measurements.readers[key] = (target.finish(), target.readers[reader])
    return measurements
