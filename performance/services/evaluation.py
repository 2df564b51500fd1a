"""The evaluation engine: every agent against every service standard, per period.

Evaluations are a pure function of facts, standard versions and period (DESIGN invariant 3):
grouped queries compute every standard's metric for every agent and period at once;
outcomes are decided here and upserted, and only rows whose judgement changed are written.
The ids of changed rows go out in `evaluations_changed` after commit, for rewards and
coaching.

Speed (benchmarks/evaluation.py: a month of 5M facts, 1.5M evaluations): the facts are read
once, grouped by agent and local day, whatever the standards' channels, periods and time
zones: each aggregate filters its own channel, each fact's local day comes from its
agent's team zone, and weeks and months are the sums of their days (only aggregates that
do not add up, distinct counts, get a query per period kind). Judgements are decided agent
by agent in plain tuples and streamed to the evaluation store (evaluation_store), which
writes only changed rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from operator import itemgetter
from zoneinfo import ZoneInfo

from django.db import NotSupportedError, connection, transaction
from django.db.models import Aggregate, CharField, Count, DateField, F, Func, Q, Sum
from django.db.models.expressions import Expression
from django.utils import timezone

from performance.metrics import METRICS, Direction, Ratio
from performance.models import (
    Agent,
    Evaluation,
    FeedBatchTouch,
    Interaction,
    ServiceStandard,
    StandardVersion,
)
from performance.periods import Period, PeriodKind, period_containing, periods_between
from performance.services.evaluation_store import JudgedRow, evaluation_store
from performance.signals import evaluations_changed

Outcome = Evaluation.Outcome
VALUE_DECIMALS = 6
# Agents judged (and handed to the store) at a time: bounds the memory a run holds.
AGENT_CHUNK = 500
# PostgreSQL memory for the grouped queries' hash tables (the default, 4MB, spills a month
# of 10,000 agents' days to disk in 65 batches).
GROUPING_WORK_MEM = "64MB"
FETCH_CHUNK = 5000
EXCEEDED, MET, MISSED, INSUFFICIENT_DATA = (
    Outcome.EXCEEDED.value,
    Outcome.MET.value,
    Outcome.MISSED.value,
    Outcome.INSUFFICIENT_DATA.value,
)


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


# --- measuring -----------------------------------------------------------------------------


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


class AgentZone(Func):
    """The time zone of a fact's agent, from a mapping of zone -> agent ids (PostgreSQL):
    a hashed array lookup per row, much cheaper than joining agents and teams."""

    output_field = CharField()

    def __init__(self, agent_ids_by_zone: dict[str, list[int]]) -> None:
        super().__init__(F("agent_id"))
        self.zones = sorted(agent_ids_by_zone.items())

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"agent zones are not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        (agent,) = self.get_source_expressions()
        agent_sql, agent_params = compiler.compile(agent)
        *tested, (last_zone, _) = self.zones
        # Typed like the column: PostgreSQL hashes `= ANY(array)` only for the column's own
        # type (a list of small ids would otherwise go as int2[] and be searched linearly).
        array_type = Interaction._meta.get_field("agent").target_field.db_type(connection)
        cases = " ".join(f"WHEN {agent_sql} = ANY(%s::{array_type}[]) THEN %s" for _ in tested)
        params = [value for zone, ids in tested for value in (*agent_params, ids, zone)]
        if not tested:
            return "%s", [last_zone]
        # The last zone takes every other agent: facts of agents outside the run are
        # measured but never judged.
        return f"(CASE {cases} ELSE %s END)", [*params, last_zone]


@dataclass(frozen=True, slots=True)
class _Reader:
    """Where one standard's numbers (for one threshold) sit in a grouped row."""

    numerator: int
    denominator: int | None
    sample: int
    # A column counting the rows of the standard's channel; None: every row counts.
    presence: int | None
    scale: float


def _read(row: tuple, reader: _Reader) -> tuple[float | None, int]:
    numerator = row[reader.numerator]
    if reader.denominator is None:
        value = float(numerator or 0)
    else:
        denominator = row[reader.denominator]
        if not denominator:
            return None, row[reader.sample]
        value = float(numerator or 0) * reader.scale / float(denominator)
    return round(value, VALUE_DECIMALS), row[reader.sample]


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

    def reader(self, ratio: Ratio, channel: str) -> _Reader:
        return _Reader(
            numerator=self.column(ratio.numerator),
            denominator=None if ratio.denominator is None else self.column(ratio.denominator),
            sample=self.column(ratio.sample),
            presence=self.column(Count("id", filter=Q(channel=channel))) if channel else None,
            scale=ratio.scale,
        )

    def rows(
        self, agents: list[AgentScope], *, since: date, until: date, restrict_agents: bool
    ) -> Iterator[tuple]:
        """(agent, period start, *columns) per agent and period with facts."""
        zones: dict[str, list[int]] = defaultdict(list)
        for agent in agents:
            zones[agent.time_zone].append(agent.agent_id)
        first, last = period_containing(since, self.kind), period_containing(until, self.kind)
        # From the earliest zone's first midnight to the latest zone's last one: a fact
        # beyond its own zone's bounds falls in a period outside the range, never judged.
        facts = Interaction.objects.filter(
            started_at__gte=min(first.bounds(ZoneInfo(zone))[0] for zone in zones),
            started_at__lt=max(last.bounds(ZoneInfo(zone))[1] for zone in zones),
        )
        if restrict_agents:
            facts = facts.filter(agent_id__in=[agent.agent_id for agent in agents])
        zone = (
            AgentZone(zones) if connection.vendor == "postgresql" else F("agent__team__time_zone")
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

    def __init__(self, readers: Collection[_Reader], roll_up_to: PeriodKind | None) -> None:
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

    readers: dict[tuple[int, int | None], tuple[Rows, _Reader]] = field(default_factory=dict)


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
    readers: dict[tuple[int, int | None], tuple[PeriodKind, _GroupedQuery, _Reader]] = {}
    for plan in plans:
        for threshold in plan.thresholds():
            ratio = METRICS[plan.metric].ratio(threshold, channel=plan.channel)
            parts = [ratio.numerator, ratio.denominator, ratio.sample]
            if plan.period is PeriodKind.DAY or all(map(_adds_up, filter(None, parts))):
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
    by_source: dict[tuple[PeriodKind, _GroupedQuery], list[_Reader]] = defaultdict(list)
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


# --- judging -------------------------------------------------------------------------------


def _judged_rows(
    plans: list[StandardPlan],
    agents: list[AgentScope],
    measurements: Measurements,
    *,
    since: date,
    until: date,
    only: set[Key] | None,
) -> Iterator[list[JudgedRow]]:
    """Judgements as store rows, a chunk of agents at a time.

    Below the minimum sample (or with no value) a period has insufficient data; beyond the
    stretch target it is exceeded, at the target met, else missed (ties meet, in the
    metric's direction). A quality gate keeps the outcome but takes the points away unless
    the gate standard was met or exceeded in the same period. This loop runs for every
    agent x standard x period, so it works on tuples and local names.
    """
    gate_ids = {rule.quality_gate_id for plan in plans for rule in plan.rules}
    steps = []
    for plan in plans:
        higher = METRICS[plan.metric].direction is Direction.HIGHER
        per_period = []
        for period in periods_between(since, until, plan.period):
            if not plan.applies_to(period):
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
                if plan.team_ids and agent.team_id not in plan.team_ids:
                    continue
                agent_id = agent.agent_id
                for start, end, rule, rows, reader in per_period:
                    key = (agent_id, standard_id, start)
                    if only is not None and key not in only:
                        continue
                    row = rows.get((agent_id, start))
                    if row is None or (reader.presence is not None and not row[reader.presence]):
                        if not agent.active:
                            continue
                        value, sample = None, 0
                    else:
                        value, sample = _read(row, reader)
                    if value is None or sample < rule.min_sample:
                        outcome, points = INSUFFICIENT_DATA, 0
                    elif rule.stretch_target is not None and (
                        value >= rule.stretch_target if higher else value <= rule.stretch_target
                    ):
                        outcome, points = EXCEEDED, rule.points_exceeded
                    elif value >= rule.target if higher else value <= rule.target:
                        outcome, points = MET, rule.points_met
                    else:
                        outcome, points = MISSED, 0
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
        # Speed never pays when quality fails: points stand only if the gate was met.
        for position, gate_key in gated:
            passed = gate_met.get(gate_key, False)
            row = judged[position]
            judged[position] = (*row[:8], passed, row[9] if passed else 0)
        yield judged


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
    touched: Iterable[tuple[int, date]] | None = None,
) -> EvaluationRun:
    """(Re)evaluate every period of every standard that contains a day in [since, until].

    With `touched` (agent, local date) pairs, only the periods containing them are scored.
    Rows are upserted; only changed judgements are written and announced.
    """
    run = EvaluationRun()
    plans = standard_plans(standard_ids)
    if not plans:
        return run
    agents = agent_scopes(agent_ids)
    only = None
    if touched is not None:
        only = {
            (agent_id, plan.standard_id, period_containing(day, plan.period).start)
            for agent_id, day in touched
            for plan in plans
        }
    measurements = measure(
        plans, agents, since=since, until=until, restrict_agents=agent_ids is not None
    )
    chunks = _judged_rows(plans, agents, measurements, since=since, until=until, only=only)
    earliest = min(period_containing(since, plan.period).start for plan in plans)
    latest = max(period_containing(until, plan.period).start for plan in plans)
    with transaction.atomic():
        written = evaluation_store().write(
            chunks,
            standard_ids=[plan.standard_id for plan in plans],
            period_starts=(earliest, latest),
            agent_ids=None if agent_ids is None else [agent.agent_id for agent in agents],
            now=timezone.now(),
        )
        run.created, run.updated, run.unchanged = (
            len(written.created_ids),
            len(written.updated_ids),
            written.unchanged,
        )
        run.changed_ids = [*written.created_ids, *written.updated_ids]
        if run.changed_ids:
            ids = list(run.changed_ids)
            transaction.on_commit(
                lambda: evaluations_changed.send(sender=Evaluation, evaluation_ids=ids)
            )
    return run


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
