"""The rule preview: a draft rule judged over recent periods exactly as evaluation would
judge a saved standard with the same rule, without writing anything."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from performance.models import Evaluation, ServiceStandard, StandardVersion
from performance.periods import PeriodKind
from performance.services.evaluation import evaluate_periods
from performance.services.evaluation.preview import (
    OutcomeCounts,
    last_complete_periods,
    preview_rule,
)
from performance.services.standards import standard_save
from tests.factories import (
    AgentFactory,
    InteractionFactory,
    make_standard,
    standard_draft,
)

pytestmark = pytest.mark.django_db

DAYS = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
UNTIL = date(2026, 3, 5)  # the last complete day before it is 4 March

# csat responses per agent and day; None is a contact without a survey
CSAT = {
    "alice": {DAYS[0]: [5, 5, 4], DAYS[1]: [5, 3], DAYS[2]: [5, 5, 5, 5]},
    "paulo": {DAYS[0]: [2, 3], DAYS[1]: [5], DAYS[2]: [4, 4, 2]},
    "maria": {DAYS[0]: [5], DAYS[1]: [None, None], DAYS[2]: [1, 2, 5]},
}


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def csat_history(alice, paulo, maria, source):
    """Three agents in two time zones with chat surveys, an idle agent and a phone contact
    that chat standards must ignore."""
    agents = {"alice": alice, "paulo": paulo, "maria": maria}
    for name, days in CSAT.items():
        for day, scores in days.items():
            for minute, score in enumerate(scores):
                InteractionFactory(
                    source=source,
                    agent=agents[name],
                    channel="chat",
                    started_at=noon(day) + timedelta(minutes=minute),
                    csat=score,
                )
    InteractionFactory(
        source=source, agent=alice, channel="phone", started_at=noon(DAYS[1]), csat=1
    )
    AgentFactory(team=alice.team)  # active, never had a contact: insufficient data
    AgentFactory(team=alice.team, active=False)  # inactive without data: not judged
    return agents


def evaluated_counts(standard: ServiceStandard) -> dict[date, OutcomeCounts]:
    """What evaluate_periods stored for a saved standard, tallied like the preview."""
    evaluate_periods(since=DAYS[0], until=DAYS[-1])
    counts = {}
    for day in DAYS:
        rows = list(Evaluation.objects.filter(standard=standard, period_start=day))
        outcomes = Counter(row.outcome for row in rows)
        counts[day] = OutcomeCounts(
            exceeded=outcomes["exceeded"],
            met=outcomes["met"],
            missed=outcomes["missed"],
            insufficient_data=outcomes["insufficient_data"],
            gate_not_met=sum(
                1 for row in rows if row.gate_passed is False and row.outcome in ("met", "exceeded")
            ),
            points=sum(row.points for row in rows),
        )
    return counts


RULES = [
    pytest.param(
        {"target": 80, "stretch_target": 95, "min_sample": 2}, id="stretch-and-min-sample"
    ),
    pytest.param({"target": 60, "min_sample": 1, "channel": "chat"}, id="chat-only"),
    pytest.param({"target": 100, "min_sample": 3, "points_met": 5}, id="strict"),
]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("scoped", [False, True], ids=["every-team", "lisbon-only"])
def test_preview_counts_equal_what_evaluation_stores_for_the_same_rule(
    csat_history, lisbon, rule, scoped
):
    teams = [lisbon] if scoped else []
    saved = make_standard(teams=teams, **rule)

    rows = preview_rule(
        draft=standard_draft(**rule), team_ids=[team.id for team in teams], periods=3, until=UNTIL
    )

    assert [row.period.start for row in rows] == DAYS
    assert {row.period.start: row.draft for row in rows} == evaluated_counts(saved)
    assert all(row.saved is None for row in rows)


def test_the_hand_computed_counts(csat_history):
    rows = preview_rule(
        draft=standard_draft(target=80, stretch_target=95, min_sample=2, channel="chat"),
        team_ids=[],
        periods=3,
        until=UNTIL,
    )
    # 2 March: alice 100 % exceeded, paulo 0 % missed, maria 1 response < 2; plus the idle agent
    # 3 March: alice 50 % missed, paulo and maria below min sample, idle agent
    # 4 March: alice 100 % exceeded, paulo 67 % missed, maria 33 % missed, idle agent
    assert [row.draft for row in rows] == [
        OutcomeCounts(exceeded=1, missed=1, insufficient_data=2, points=20),
        OutcomeCounts(missed=1, insufficient_data=3),
        OutcomeCounts(exceeded=1, missed=2, insufficient_data=1, points=20),
    ]


def test_a_quality_gate_is_judged_by_its_saved_plan(csat_history):
    gate = make_standard(name="CSAT gate", metric="csat", target=90, min_sample=1)
    saved = make_standard(name="Volume", metric="volume", target=1, quality_gate=gate)

    rows = preview_rule(
        draft=standard_draft(metric="volume", target=1, quality_gate=gate),
        team_ids=[],
        periods=3,
        until=UNTIL,
    )

    preview = {row.period.start: row.draft for row in rows}
    assert preview == evaluated_counts(saved)
    assert sum(counts.gate_not_met for counts in preview.values()) > 0


def test_on_a_saved_standard_the_current_version_is_previewed_beside_the_draft(csat_history):
    standard = make_standard(target=80, min_sample=1)
    standard.target = 50
    standard_save(standard=standard, effective_from=DAYS[1])  # v2, from the second day

    draft = ServiceStandard.objects.get(pk=standard.pk)
    draft.target = 100
    rows = preview_rule(draft=draft, team_ids=[], periods=3, until=UNTIL)

    current = preview_rule(draft=standard_draft(target=50), team_ids=[], periods=3, until=UNTIL)
    drafted = preview_rule(draft=standard_draft(target=100), team_ids=[], periods=3, until=UNTIL)
    # The current rule judges every period, also the one its history left to version 1.
    assert [row.saved for row in rows] == [row.draft for row in current]
    assert [row.draft for row in rows] == [row.draft for row in drafted]
    assert rows[2].saved.met == 2 and rows[2].draft.met == 1  # paulo's 67 % passes only 50


@pytest.mark.parametrize(
    ("saved_scope", "draft_scope"),
    [("", "lisbon"), ("lisbon", ""), ("lisbon", "sao_paulo")],
    ids=["saved-every-team", "draft-every-team", "different-teams"],
)
def test_both_columns_keep_their_own_team_scope_and_gate(
    csat_history, request, saved_scope, draft_scope
):
    """The draft and the current version are judged in one run of the engine: each column
    still judges the agents of its own teams, each under its own gate."""
    gate = make_standard(name="CSAT gate", metric="csat", target=90, min_sample=1)
    other_gate = make_standard(name="Chat CSAT gate", metric="csat", channel="chat", target=60)
    saved_teams = [request.getfixturevalue(saved_scope)] if saved_scope else []
    draft_teams = [request.getfixturevalue(draft_scope)] if draft_scope else []
    standard = make_standard(
        name="Volume", metric="volume", target=2, min_sample=1, teams=saved_teams, quality_gate=gate
    )
    draft = ServiceStandard.objects.get(pk=standard.pk)
    draft.quality_gate = other_gate

    rows = preview_rule(
        draft=draft, team_ids=[team.id for team in draft_teams], periods=3, until=UNTIL
    )

    alone_saved = preview_rule(
        draft=standard_draft(
            metric="volume", target=2, min_sample=1, quality_gate=gate, name="Volume"
        ),
        team_ids=[team.id for team in saved_teams],
        periods=3,
        until=UNTIL,
    )
    alone_draft = preview_rule(
        draft=standard_draft(metric="volume", target=2, min_sample=1, quality_gate=other_gate),
        team_ids=[team.id for team in draft_teams],
        periods=3,
        until=UNTIL,
    )
    assert [row.saved for row in rows] == [row.draft for row in alone_saved]
    assert [row.draft for row in rows] == [row.draft for row in alone_draft]
    # The scopes hold different numbers of agents: the two columns judged different people.
    assert rows[0].saved.agents != rows[0].draft.agents


def test_active_dates_do_not_hide_recent_data(csat_history):
    later = preview_rule(
        draft=standard_draft(active_from=date(2027, 1, 1)), team_ids=[], periods=3, until=UNTIL
    )
    now = preview_rule(draft=standard_draft(), team_ids=[], periods=3, until=UNTIL)
    assert [row.draft for row in later] == [row.draft for row in now]


def test_preview_writes_nothing(csat_history):
    gate = make_standard(name="CSAT gate", metric="csat", target=90)
    standard = make_standard(name="Volume", metric="volume", target=1, quality_gate=gate)
    draft = ServiceStandard.objects.get(pk=standard.pk)
    draft.target = 2
    versions = StandardVersion.objects.count()

    with CaptureQueriesContext(connection) as queries:
        preview_rule(draft=draft, team_ids=[], periods=3, until=UNTIL)

    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert Evaluation.objects.count() == 0
    assert StandardVersion.objects.count() == versions
    assert ServiceStandard.objects.get(pk=standard.pk).target == 1


def test_no_data_gives_insufficient_data_for_every_active_agent(alice, paulo):
    rows = preview_rule(draft=standard_draft(), team_ids=[], periods=2, until=UNTIL)
    assert [row.draft for row in rows] == [OutcomeCounts(insufficient_data=2)] * 2


@pytest.mark.parametrize(
    ("kind", "until", "expected_starts"),
    [
        ("day", date(2026, 3, 5), [date(2026, 3, 3), date(2026, 3, 4)]),
        # Wednesday 4 March: the week under way is not complete
        ("week", date(2026, 3, 4), [date(2026, 2, 16), date(2026, 2, 23)]),
        # on 2 March the previous Monday-to-Sunday week ended yesterday
        ("week", date(2026, 3, 2), [date(2026, 2, 16), date(2026, 2, 23)]),
        ("month", date(2026, 3, 1), [date(2026, 1, 1), date(2026, 2, 1)]),
    ],
)
def test_the_window_ends_with_the_last_complete_period(kind, until, expected_starts):
    periods = last_complete_periods(PeriodKind(kind), count=2, until=until)
    assert [period.start for period in periods] == expected_starts
    assert periods[-1].end <= until


@pytest.mark.parametrize("periods", [0, 37])
def test_the_number_of_periods_is_bounded(periods):
    with pytest.raises(ValueError, match="between 1 and 36"):
        preview_rule(draft=standard_draft(), team_ids=[], periods=periods, until=UNTIL)
