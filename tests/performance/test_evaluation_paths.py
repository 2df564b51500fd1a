"""The engine's fast paths give exactly what each formula says over each period's facts.

Weeks and months are summed from days (one scan of the facts for every standard), a
distinct count gets a query of its own, channels share one query through filtered
aggregates, and the stores write only the judgements that changed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from performance.models import Evaluation
from performance.periods import period_containing, periods_between
from performance.services.evaluation import evaluate_periods
from performance.services.evaluation import store as evaluation_store
from tests.factories import InteractionFactory, make_standard

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2026, 10, 19), date(2026, 11, 8)  # across Lisbon's DST change
CHANNELS = ("phone", "chat", "email")


@pytest.fixture
def history(alice, paulo, source):
    """Three weeks of varied contacts for two agents in two zones, near local midnights."""
    rng = random.Random(3)
    facts = []
    for agent in (alice, paulo):
        for offset in range((LAST - FIRST).days + 1):
            for _ in range(rng.randrange(0, 5)):
                started = datetime.combine(FIRST + timedelta(days=offset), datetime.min.time())
                started = started.replace(tzinfo=UTC) + timedelta(
                    hours=rng.choice([0, 1, 2, 3, 12, 22, 23]), minutes=rng.randrange(60)
                )
                fact = InteractionFactory(
                    agent=agent,
                    source=source,
                    channel=rng.choice(CHANNELS),
                    started_at=started,
                    handle_seconds=rng.choice([None, 120, 300.5, 480]),
                    first_response_seconds=rng.choice([None, 20, 60, 61, 4000]),
                    csat=rng.choice([None, 1, 3, 4, 5]),
                    nps=rng.choice([None, 0, 6, 7, 9, 10]),
                    qa_score=rng.choice([None, 70.5, 88.25, 99.9]),
                    transferred=rng.choice([None, True, False]),
                    abandoned=rng.choice([None, True, False]),
                    resolved=rng.choice([True, False]),
                    case_id=rng.choice(["", "c1", "c2", "c3"]),
                )
                facts.append(fact)
    return facts


def reference(facts, standard, agent) -> dict[date, tuple[float | None, int]]:
    """(value, sample) per period start, straight from the formulas in DESIGN.md."""
    zone = ZoneInfo(agent.team.time_zone)
    by_period = defaultdict(list)
    for fact in facts:
        if fact.agent_id != agent.id:
            continue
        if standard.channel and fact.channel != standard.channel:
            continue
        local_day = fact.started_at.astimezone(zone).date()
        by_period[period_containing(local_day, standard.period).start].append(fact)
    result = {}
    for start, rows in by_period.items():
        match standard.metric:
            case "aht":
                values = [
                    r.handle_seconds
                    for r in rows
                    if r.handle_seconds is not None and r.abandoned is not True
                ]
                result[start] = (sum(values) / len(values) if values else None, len(values))
            case "qa":
                values = [r.qa_score for r in rows if r.qa_score is not None]
                result[start] = (sum(values) / len(values) if values else None, len(values))
            case "csat":
                values = [r.csat for r in rows if r.csat is not None]
                good = sum(v >= 4 for v in values)
                result[start] = (100 * good / len(values) if values else None, len(values))
            case "nps":
                values = [r.nps for r in rows if r.nps is not None]
                net = sum(v >= 9 for v in values) - sum(v <= 6 for v in values)
                result[start] = (100 * net / len(values) if values else None, len(values))
            case "sla":
                values = [r.first_response_seconds for r in rows]
                values = [v for v in values if v is not None]
                within = sum(v <= standard.threshold_seconds for v in values)
                result[start] = (100 * within / len(values) if values else None, len(values))
            case "transfer_rate":
                result[start] = (
                    100 * sum(r.transferred is True for r in rows) / len(rows),
                    len(rows),
                )
            case "volume":
                result[start] = (float(len(rows)), len(rows))
            case "contacts_per_case":
                cases = {r.case_id for r in rows if r.resolved and r.case_id}
                result[start] = (len(rows) / len(cases) if cases else None, len(cases))
    return result


@pytest.mark.parametrize(
    ("metric", "period", "channel", "extra"),
    [
        ("aht", "week", "phone", {}),
        ("aht", "month", "", {}),
        ("qa", "week", "", {}),
        ("csat", "month", "chat", {}),
        ("nps", "week", "", {}),
        ("sla", "week", "chat", {"threshold_seconds": 60}),
        ("transfer_rate", "month", "", {}),
        ("volume", "week", "email", {}),
        ("contacts_per_case", "week", "", {}),
        ("contacts_per_case", "month", "phone", {}),
        ("contacts_per_case", "day", "", {}),
    ],
)
def test_every_period_holds_the_formula_over_its_own_facts(
    history, alice, paulo, metric, period, channel, extra
):
    standard = make_standard(metric=metric, period=period, channel=channel, target=1, **extra)
    # Other standards share the grouped query: they must not disturb this one's columns.
    make_standard(metric="csat", period="day", target=80)
    make_standard(metric="aht", period="week", channel="email", target=300)
    evaluate_periods(since=FIRST, until=LAST)
    judged = {period.start for period in periods_between(FIRST, LAST, period)}
    for agent in (alice, paulo):
        expected = {
            start: numbers
            for start, numbers in reference(history, standard, agent).items()
            if start in judged
        }
        stored = {
            e.period_start: (e.value, e.sample_size)
            for e in Evaluation.objects.filter(standard=standard, agent=agent)
        }
        assert set(stored) >= set(expected)
        for start, (value, sample) in stored.items():
            want_value, want_sample = expected.get(start, (None, 0))
            assert sample == want_sample, (agent, start)
            if want_value is None or sample == 0:
                assert value is None, (agent, start)
            else:
                assert value == pytest.approx(round(want_value, 6), abs=1e-6), (agent, start)


def test_an_inactive_agent_is_judged_only_where_the_standards_channel_has_facts(
    alice, paulo, source
):
    paulo.active = False
    paulo.save()
    InteractionFactory(
        agent=paulo,
        source=source,
        channel="email",
        started_at=datetime(2026, 10, 28, 15, tzinfo=UTC),
    )
    phone = make_standard(metric="volume", period="week", channel="phone")
    every = make_standard(metric="volume", period="week")
    evaluate_periods(since=date(2026, 10, 26), until=date(2026, 11, 1))
    assert not Evaluation.objects.filter(agent=paulo, standard=phone).exists()
    assert Evaluation.objects.get(agent=paulo, standard=every).sample_size == 1
    assert Evaluation.objects.get(agent=alice, standard=phone).sample_size == 0


def test_only_changed_judgements_are_written_and_announced(history, alice, paulo):
    csat = make_standard(metric="csat", period="week", target=50)
    make_standard(metric="volume", period="day", target=1)
    first = evaluate_periods(since=FIRST, until=LAST)
    assert first.created == first.total == len(first.changed_ids) > 0
    before = dict(Evaluation.objects.values_list("id", "computed_at"))

    fact = next(f for f in history if f.agent_id == alice.id and f.csat is None)
    fact.csat = 5
    fact.save()
    again = evaluate_periods(since=FIRST, until=LAST)

    week = period_containing(
        fact.started_at.astimezone(ZoneInfo("Europe/Lisbon")).date(), "week"
    ).start
    changed = Evaluation.objects.get(agent=alice, standard=csat, period_start=week)
    assert (again.created, again.updated, again.changed_ids) == (0, 1, [changed.id])
    assert again.unchanged == first.total - 1
    after = dict(Evaluation.objects.values_list("id", "computed_at"))
    assert {key for key in after if after[key] != before[key]} == {changed.id}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
def test_the_copy_types_match_the_evaluation_table():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, atttypid::regtype::text FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0",
            [evaluation_store.TABLE],
        )
        column_types = dict(cursor.fetchall())
    aliases = {
        "bigint": "int8",
        "character varying": "text",
        "double precision": "float8",
        "boolean": "bool",
        "integer": "int4",
    }
    assert [
        aliases.get(column_types[column], column_types[column])
        for column in evaluation_store.COLUMNS
    ] == list(evaluation_store.COPY_TYPES)
