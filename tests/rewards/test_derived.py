"""The set-based derivation (rewards.services.derived, SQL) implies exactly what the Python
definitions do: which periods are closed and pay, the streaks, their bonuses, and current
and best, for any run of outcomes, gates, gaps and periods still under way."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import Evaluation
from performance.periods import period_containing
from performance.selectors import earns, local_today_resolver, local_today_spans
from rewards.models import StreakBonus
from rewards.services.derived import DerivedScope, derive
from rewards.services.streaks import current_and_best, streak_rewards, streaks_of
from tests.factories import make_standard
from tests.rewards.helpers import judge

pytestmark = pytest.mark.django_db

WEEK = st.one_of(
    st.none(),  # no evaluation that week
    st.tuples(
        st.sampled_from(["met", "exceeded", "missed", "insufficient_data"]),
        st.sampled_from([None, True, False]),
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(weeks=st.lists(WEEK, max_size=16), bonuses=st.sets(st.integers(2, 6), max_size=3))
def test_sql_derivation_matches_the_python_definitions(alice, weeks, bonuses):
    Evaluation.objects.all().delete()
    StreakBonus.objects.all().delete()
    csat = make_standard(metric="csat", period="week", target=80)
    for length in bonuses:
        StreakBonus.objects.create(standard=csat, length=length, points=10 * length)
    # The last weeks run into the current one: their periods are still under way.
    first = period_containing(timezone.localdate(), "week").start - timedelta(weeks=len(weeks) - 2)
    judged = []
    today = local_today_resolver([alice.pk])
    for number, week in enumerate(weeks):
        if week is None:
            continue
        outcome, gate = week
        evaluation = judge(alice, csat, first + timedelta(weeks=number), outcome, gate_passed=gate)
        if evaluation.period_end <= today(alice.pk, evaluation.period_start):
            judged.append((evaluation.period_start, earns(outcome, gate), evaluation.points))
    derived = derive(DerivedScope(agent_ids=[alice.pk], spans=local_today_spans([alice.pk])))

    paid = {d.earned_on: d.expected for d in derived.standard}
    assert paid == {start: points for start, _, points in judged if points}

    runs = streaks_of([(start, earned) for start, earned, _ in judged])
    expected = {
        (reward.reference, reward.earned_on, reward.points)
        for reward in streak_rewards(csat.pk, runs, [(n, 10 * n) for n in bonuses])
    }
    assert {(d.reference, d.earned_on, d.expected) for d in derived.streak_bonus} == expected

    changes = derived.streaks
    if judged:
        (change,) = changes
        assert (change.current, change.best) == current_and_best(runs)
    else:
        assert changes == []


def test_a_moved_agents_periods_are_judged_by_the_zone_of_the_team_of_their_first_day(
    alice, lisbon, sao_paulo, monkeypatch
):
    """At 01:30 in Lisbon it is still yesterday in São Paulo: yesterday's day period is
    closed for a day spent in Lisbon, still under way for one spent in São Paulo."""
    from datetime import UTC, datetime

    from performance.models import TeamMembership

    now = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    moved_on = now.date() - timedelta(days=3)
    TeamMembership.objects.filter(agent=alice).update(ends_on=moved_on)
    TeamMembership.objects.create(agent=alice, team=sao_paulo, starts_on=moved_on)
    spans = local_today_spans([alice.pk])
    assert [(s.until, s.today) for s in spans] == [
        (moved_on, now.date()),  # Lisbon: the 20th
        (date.max, now.date() - timedelta(days=1)),  # São Paulo: still the 19th
    ]
    daily = make_standard(metric="csat", period="day", target=80)
    in_lisbon = judge(alice, daily, moved_on - timedelta(days=1), "met")
    yesterday = judge(alice, daily, now.date() - timedelta(days=1), "met")
    derived = derive(DerivedScope(agent_ids=[alice.pk], spans=spans))
    paid = {d.earned_on for d in derived.standard}
    assert in_lisbon.period_start in paid
    assert yesterday.period_start not in paid  # closes at midnight in São Paulo
