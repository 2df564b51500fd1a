"""Penalty points in the ledger: a missed period's negative points are written by
reconciliation like any other (kind `standard`, outcome missed), its note says it is a
penalty, a correction gives the penalty back, and the history and API show it as such."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db.models import Sum
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import Evaluation
from rewards.models import AgentBalance, PointsEntry
from rewards.selectors import balance_mismatches, total_mismatches
from rewards.services.reconcile import ReconcileScope, reconcile
from tests.factories import make_standard
from tests.html import texts_by_testid
from tests.rewards.helpers import judge
from tests.scenarios import login

pytestmark = pytest.mark.django_db

WEEK_44 = date(2026, 10, 26)
PENALTY = 10
# What each outcome earns under a standard with a 10-point penalty.
POINTS = {"exceeded": 20, "met": 10, "missed": -PENALTY, "insufficient_data": 0}


@pytest.fixture
def csat(db):
    return make_standard(
        name="CSAT", metric="csat", period="week", target=80, points_missed_penalty=PENALTY
    )


def judge_with_penalty(agent, standard, start: date, outcome: str) -> Evaluation:
    return judge(agent, standard, start, outcome, points=POINTS[outcome])


def entries(agent) -> list[tuple]:
    return list(
        PointsEntry.objects.filter(agent=agent)
        .order_by("id")
        .values_list("kind", "outcome", "points", "note")
    )


def ledger_sum(agent) -> int:
    return PointsEntry.objects.filter(agent=agent).aggregate(total=Sum("points"))["total"] or 0


def test_a_missed_period_writes_its_penalty_as_a_negative_standard_entry(alice, csat):
    judge_with_penalty(alice, csat, WEEK_44, "missed")
    result = reconcile()
    assert (result.entries, result.points) == (1, -PENALTY)
    ((kind, outcome, points, note),) = entries(alice)
    assert (kind, outcome, points) == ("standard", "missed", -PENALTY)
    assert note.startswith("CSAT, Week 44") and note.endswith(": missed: penalty -10")
    assert AgentBalance.objects.get(agent=alice).lifetime == -PENALTY
    assert reconcile().entries == 0


def test_insufficient_data_writes_nothing(alice, csat):
    judge_with_penalty(alice, csat, WEEK_44, "insufficient_data")
    assert reconcile().entries == 0


def test_a_correction_from_missed_to_met_gives_the_penalty_back(alice, csat):
    judge_with_penalty(alice, csat, WEEK_44, "missed")
    reconcile()
    judge_with_penalty(alice, csat, WEEK_44, "met")
    result = reconcile(ReconcileScope(agent_ids=(alice.pk,), batch_id=77))
    assert (result.entries, result.points) == (1, PENALTY + 10)
    kind, outcome, points, note = entries(alice)[-1]
    assert (kind, outcome, points) == ("standard", "met", 20)
    assert "missed -> met after feed batch 77: +20" in note
    assert "(the -10 penalty given back)" in note
    assert ledger_sum(alice) == 10


def test_a_correction_from_met_to_missed_takes_the_points_and_the_penalty(alice, csat):
    judge_with_penalty(alice, csat, WEEK_44, "met")
    reconcile()
    judge_with_penalty(alice, csat, WEEK_44, "missed")
    reconcile()
    kind, outcome, points, note = entries(alice)[-1]
    assert (kind, outcome, points) == ("standard", "missed", -20)
    assert note.endswith("met -> missed: -20 (penalty -10)")
    assert ledger_sum(alice) == -PENALTY


def test_a_withdrawal_without_a_penalty_does_not_mention_one(alice):
    plain = make_standard(name="FCR", metric="fcr", period="week", target=80)
    judge(alice, plain, WEEK_44, "met")
    reconcile()
    judge(alice, plain, WEEK_44, "missed")
    reconcile()
    note = entries(alice)[-1][3]
    assert note.endswith("met -> missed: -10") and "penalty" not in note


def test_a_missed_period_still_under_way_is_a_provisional_penalty(alice, csat, client):
    from django.utils import timezone

    from performance.periods import period_containing

    this_week = period_containing(timezone.localdate(), "week").start
    judge_with_penalty(alice, csat, this_week, "missed")
    assert reconcile().entries == 0
    login(client, alice)
    body = client.get(reverse("rewards:my-points")).content.decode()
    assert texts_by_testid(body, "provisional-total") == ["-10"]


class TestHistory:
    @pytest.fixture
    def corrected(self, alice, csat):
        """Week 44 missed (penalty), week 45 met then corrected to missed (penalty too),
        week 46 missed then corrected to met (penalty given back)."""
        for week, outcomes in enumerate([["missed"], ["met", "missed"], ["missed", "met"]]):
            for outcome in outcomes:
                judge_with_penalty(alice, csat, WEEK_44 + timedelta(weeks=week), outcome)
                reconcile()
        return alice

    def test_the_history_shows_penalties_as_penalties(self, client, corrected):
        login(client, corrected)
        body = client.get(reverse("rewards:my-points")).content.decode()
        # newest first: week 46 given back, week 46 penalty, week 45 penalty, week 45 met,
        # week 44 penalty
        assert texts_by_testid(body, "penalty") == ["Penalty: standard missed"] * 3
        assert body.count("Standard met or exceeded") == 2

    def test_a_lead_sees_the_penalties_of_an_agent_they_lead(self, client, corrected, bob):
        login(client, bob)
        body = client.get(reverse("rewards:agent-points", args=[corrected.pk])).content.decode()
        assert len(texts_by_testid(body, "penalty")) == 3

    def test_the_api_marks_penalty_entries(self, client, corrected):
        login(client, corrected)
        body = client.get(f"/api/v1/rewards/agents/{corrected.pk}/points").json()
        marked = [(entry["points"], entry["penalty"]) for entry in body["results"]]
        assert marked == [(20, False), (-10, True), (-20, True), (10, False), (-10, True)]
        assert {entry["kind"] for entry in body["results"]} == {"standard"}


OUTCOMES = st.sampled_from(sorted(POINTS))
STEPS = st.lists(
    st.tuples(
        st.integers(0, 1),  # agent
        st.integers(0, 3),  # week
        st.one_of(OUTCOMES, st.none()),  # None: the evaluation is deleted
        st.booleans(),  # reconcile after this step
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_with_penalties_the_ledger_still_ends_equal_to_the_evaluations(alice, maria, csat, steps):
    agents = [alice, maria]
    first_ids = set(PointsEntry.objects.values_list("id", flat=True))
    before = {row[0]: row for row in PointsEntry.objects.values_list("id", "points", "note")}
    for agent_index, week, outcome, reconcile_now in steps:
        start = WEEK_44 + timedelta(days=7 * week)
        if outcome is None:
            Evaluation.objects.filter(agent=agents[agent_index], period_start=start).delete()
        else:
            judge_with_penalty(agents[agent_index], csat, start, outcome)
        if reconcile_now:
            reconcile(ReconcileScope(agent_ids=(agents[agent_index].pk,)))
    reconcile()
    for agent in agents:
        expected = (
            Evaluation.objects.filter(agent=agent).aggregate(total=Sum("points"))["total"] or 0
        )
        assert ledger_sum(agent) == expected
    assert reconcile().entries == 0
    assert balance_mismatches() == []
    assert total_mismatches() == []
    # No entry written before was changed.
    assert {
        row[0]: row
        for row in PointsEntry.objects.filter(id__in=first_ids).values_list("id", "points", "note")
    } == before
