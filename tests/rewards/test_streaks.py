"""Streaks and their bonuses: derived from closed periods, so corrections take bonuses back
or grant them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db.models import Sum
from hypothesis import given
from hypothesis import strategies as st

from performance.selectors import earns
from rewards.models import AgentStreak, PointsEntry, StreakBonus
from rewards.services.reconcile import reconcile
from rewards.services.streaks import current_and_best, streak_rewards, streaks_of
from tests.factories import make_standard
from tests.rewards.helpers import judge

MONDAY = date(2026, 8, 3)
JUDGEMENTS = st.lists(st.sampled_from([True, False, None]), max_size=30)


def weeks(judgements):
    return [(MONDAY + timedelta(days=7 * i), earned) for i, earned in enumerate(judgements)]


def test_a_miss_or_a_failed_gate_breaks_and_insufficient_data_skips():
    assert earns("met", None) is True
    assert earns("exceeded", True) is True
    assert earns("exceeded", False) is False
    assert earns("missed", None) is False
    assert earns("insufficient_data", None) is None
    runs = streaks_of(weeks([True, None, True, False, True]))
    assert [run.length for run in runs] == [2, 1]
    assert current_and_best(runs) == (1, 2)


@given(JUDGEMENTS)
def test_skipped_periods_change_no_streak(judgements):
    without_skips = [earned for earned in judgements if earned is not None]
    with_skips = streaks_of(weeks(judgements))
    assert [run.length for run in with_skips] == [
        run.length for run in streaks_of(weeks(without_skips))
    ]
    assert sum(run.length for run in with_skips) == judgements.count(True)


@given(JUDGEMENTS)
def test_each_streak_earns_each_length_once_dated_on_the_period_that_reached_it(judgements):
    runs = streaks_of(weeks(judgements))
    rewards = streak_rewards(7, runs, [(2, 10), (4, 30)])
    assert len({reward.reference for reward in rewards}) == len(rewards)
    for reward in rewards:
        (run,) = [run for run in runs if run.start == reward.streak_start]
        assert reward.earned_on == run.periods[reward.length - 1]


@pytest.mark.django_db
def test_a_correction_that_breaks_a_streak_takes_its_bonus_back(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    StreakBonus.objects.create(standard=csat, length=3, points=50)
    for week in range(3):
        judge(alice, csat, MONDAY + timedelta(days=7 * week), "met")
    reconcile()
    bonus = PointsEntry.objects.get(kind="streak_bonus")
    assert (bonus.points, bonus.earned_on) == (50, MONDAY + timedelta(days=14))
    assert AgentStreak.objects.get(agent=alice, standard=csat).current == 3

    judge(alice, csat, MONDAY + timedelta(days=7), "missed")
    reconcile()
    streak_total = PointsEntry.objects.filter(kind="streak_bonus").aggregate(t=Sum("points"))
    assert streak_total["t"] == 0
    withdrawal = PointsEntry.objects.filter(kind="streak_bonus").order_by("-id").first()
    assert withdrawal.points == -50 and withdrawal.note
    streak = AgentStreak.objects.get(agent=alice, standard=csat)
    assert (streak.current, streak.best) == (1, 1)
    assert reconcile().entries == 0

    # Week 2 without data neither breaks nor extends: weeks 1, 3 and 4 are a streak of 3.
    judge(alice, csat, MONDAY + timedelta(days=7), "insufficient_data")
    judge(alice, csat, MONDAY + timedelta(days=21), "exceeded")
    reconcile()
    assert PointsEntry.objects.filter(kind="streak_bonus").aggregate(t=Sum("points"))["t"] == 50
    latest = PointsEntry.objects.filter(kind="streak_bonus").order_by("-id").first()
    assert latest.earned_on == MONDAY + timedelta(days=21)
