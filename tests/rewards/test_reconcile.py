"""Reconciliation: the ledger holds what the evaluations of closed periods imply, appended
as differences, whatever happened in between."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import Evaluation, EvaluationChange
from performance.periods import period_containing
from performance.services.changes import evaluation_changes_deliver
from rewards.models import AgentBalance, PointsEntry, ReconcileRequest
from rewards.selectors import agent_provisional_points, balance_mismatches, total_mismatches
from rewards.services.reconcile import ReconcileScope, reconcile
from tests.factories import make_standard
from tests.rewards.helpers import POINTS, judge

pytestmark = pytest.mark.django_db

WEEK_44 = date(2026, 10, 26)


@pytest.fixture
def csat(db):
    return make_standard(name="CSAT", metric="csat", period="week", target=80)


def ledger_sum(agent, reference=None) -> int:
    entries = PointsEntry.objects.filter(agent=agent)
    if reference:
        entries = entries.filter(reference=reference)
    return entries.aggregate(total=Sum("points"))["total"] or 0


def test_closed_periods_earn_their_points_once(alice, csat):
    judge(alice, csat, WEEK_44, "met")
    judge(alice, csat, WEEK_44 + timedelta(days=7), "exceeded")
    first = reconcile()
    assert (first.entries, first.points) == (2, 30)
    assert reconcile().entries == 0
    assert AgentBalance.objects.get(agent=alice).lifetime == 30


def test_a_period_under_way_is_provisional_and_never_written(alice, csat):
    this_week = period_containing(timezone.localdate(), "week").start
    judge(alice, csat, this_week, "exceeded")
    assert reconcile().entries == 0
    (provisional,) = agent_provisional_points(alice)
    assert (provisional.points, provisional.period.start) == (20, this_week)


def test_a_correction_appends_the_difference_with_a_note(alice, csat):
    judge(alice, csat, WEEK_44, "met")
    reconcile()
    judge(alice, csat, WEEK_44, "missed")
    result = reconcile(ReconcileScope(agent_ids=(alice.pk,), batch_id=123))
    assert (result.entries, result.points) == (1, -10)
    latest = PointsEntry.objects.order_by("-id").first()
    assert latest.points == -10
    assert "CSAT" in latest.note and "123" in latest.note and "-10" in latest.note
    assert ledger_sum(alice) == 0
    # The earlier entry is still there, untouched: the history shows both.
    assert PointsEntry.objects.filter(agent=alice).count() == 2


def test_a_deleted_evaluation_takes_its_points_back(alice, csat):
    judge(alice, csat, WEEK_44, "exceeded")
    reconcile()
    Evaluation.objects.filter(agent=alice).delete()
    reconcile()
    assert ledger_sum(alice) == 0


def test_a_scope_reconciles_only_its_agents(alice, maria, csat):
    judge(alice, csat, WEEK_44, "met")
    judge(maria, csat, WEEK_44, "met")
    reconcile(ReconcileScope(agent_ids=(alice.pk,)))
    assert (ledger_sum(alice), ledger_sum(maria)) == (10, 0)


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
def test_whatever_happened_the_ledger_ends_equal_to_the_evaluations(alice, maria, csat, steps):
    agents = [alice, maria]
    for agent_index, week, outcome, reconcile_now in steps:
        start = WEEK_44 + timedelta(days=7 * week)
        if outcome is None:
            Evaluation.objects.filter(agent=agents[agent_index], period_start=start).delete()
        else:
            judge(agents[agent_index], csat, start, outcome)
        if reconcile_now:
            reconcile(ReconcileScope(agent_ids=(agents[agent_index].pk,)))
    reconcile()
    for agent in agents:
        expected = (
            Evaluation.objects.filter(agent=agent).aggregate(total=Sum("points"))["total"] or 0
        )
        assert ledger_sum(agent) == expected
    assert balance_mismatches() == []
    assert total_mismatches() == []  # every leaderboard total moved with its entries
    assert reconcile().entries == 0
    assert reconcile(check=True).discrepancies == []


def test_an_evaluation_change_is_reconciled_through_the_seam(
    alice, csat, django_capture_on_commit_callbacks
):
    judge(alice, csat, WEEK_44, "met")
    change = EvaluationChange.objects.create(
        first_period_start=WEEK_44,
        last_period_start=WEEK_44,
        standard_ids=[csat.pk],
        agent_ids=[alice.pk],
        batch_id=None,
        created=1,
        updated=0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_changes_deliver(subscriber="rewards")
    request = ReconcileRequest.objects.get(change_id=change.pk)
    assert request.done_at is not None
    assert ledger_sum(alice) == 10


def test_the_check_command_reports_and_fails_until_reconciled(alice, csat, capsys):
    judge(alice, csat, WEEK_44, "met")
    with pytest.raises(CommandError):
        call_command("rewards_reconcile", "--check")
    assert f"agent {alice.pk} evaluation:{csat.pk}:{WEEK_44}" in capsys.readouterr().out
    assert not PointsEntry.objects.exists()
    call_command("rewards_reconcile", "--agent", str(alice.pk))
    call_command("rewards_reconcile", "--check")
    assert "agree" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no agent"):
        call_command("rewards_reconcile", "--agent", "999999")
