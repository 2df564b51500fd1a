"""The coaching rule: a flag opens when K of the last N judged closed periods are missed,
dated on the period that completed the rule, and resolves after M earning periods in a row;
the misses behind a closed flag never count again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from coaching.models import CoachingFlag
from coaching.services.flags import FlagScope, flags_derive
from performance.periods import period_containing
from performance.services.standards import standard_save
from tests.coaching.helpers import flags_of, week, weeks
from tests.factories import make_standard
from tests.scenarios import judge

pytestmark = pytest.mark.django_db

OPEN, RESOLVED = "open", "resolved"


@pytest.fixture
def fcr(db):
    """Weekly FCR >= 85 %: missed in 2 of the last 3 weeks opens a flag, 2 earned resolve it."""
    return make_standard(
        name="FCR",
        metric="fcr",
        period="week",
        target=85,
        coaching_missed=2,
        coaching_window=3,
        coaching_resolve_after=2,
    )


def derive(agent=None):
    return flags_derive(scope=FlagScope(agent_ids=None if agent is None else (agent.pk,)))


def test_two_misses_in_three_weeks_open_a_flag_dated_on_the_week_that_completed_the_rule(
    alice, fcr
):
    weeks(alice, fcr, "m M m M m")
    result = derive()
    assert flags_of(alice) == [(OPEN, 3, None, [1, 3])]
    assert result.opened == 1
    flag = CoachingFlag.objects.get()
    assert (flag.origin, flag.missed_periods, flag.opened_by) == ("rule", 2, None)


def test_misses_further_apart_than_the_window_open_nothing(alice, fcr):
    weeks(alice, fcr, "M m m M m m M")
    derive()
    assert flags_of(alice) == []


def test_insufficient_data_neither_counts_nor_takes_a_place_in_the_window(alice, fcr):
    # Weeks 1 to 3 had too little data and week 4 no evaluation: the window is weeks 0 and 5.
    weeks(alice, fcr, "M i i i - M")
    derive()
    assert flags_of(alice) == [(OPEN, 5, None, [0, 5])]


def test_insufficient_data_alone_never_flags(alice, fcr):
    weeks(alice, fcr, "i i i i")
    derive()
    assert flags_of(alice) == []


def test_a_met_week_whose_quality_gate_failed_is_not_a_miss(alice, fcr):
    weeks(alice, fcr, "g g g M g")
    derive()
    assert flags_of(alice) == []


def test_k_of_n_counts_the_last_n_judged_weeks(alice, fcr):
    fcr.coaching_missed, fcr.coaching_window = 3, 5
    standard_save(standard=fcr, effective_from=week(0), rescore=False)
    weeks(alice, fcr, "M m M m m M M")
    derive()
    # Week 5 makes 2 of weeks 1-5 (week 0 has left the window); week 6 makes 3.
    assert flags_of(alice) == [(OPEN, 6, None, [2, 5, 6])]


def test_a_flag_resolves_after_m_earning_weeks_in_a_row(alice, fcr):
    weeks(alice, fcr, "M M m e m")
    result = derive()
    assert flags_of(alice) == [(RESOLVED, 1, 3, [0, 1])]
    flag = CoachingFlag.objects.get()
    assert (flag.resolved_by, flag.closed_through) == (None, week(3))
    assert (result.opened, result.resolved) == (1, 1)


def test_a_miss_or_a_failed_gate_starts_the_resolution_again_insufficient_data_is_skipped(
    alice, fcr
):
    weeks(alice, fcr, "M M m M m g m i m")
    derive()
    assert flags_of(alice) == [(RESOLVED, 1, 8, [0, 1])]


def test_misses_behind_a_closed_flag_never_count_again(alice, fcr):
    weeks(alice, fcr, "M M m m M")
    derive()
    # Weeks 0-1 opened the flag, weeks 2-3 resolved it; week 4 alone is one miss.
    assert flags_of(alice) == [(RESOLVED, 1, 3, [0, 1])]
    weeks(alice, fcr, "M", first=5)
    derive()
    assert flags_of(alice) == [(RESOLVED, 1, 3, [0, 1]), (OPEN, 5, None, [4, 5])]


def test_a_period_under_way_never_counts(alice, fcr):
    this_week = period_containing(timezone.localdate(), "week").start
    judge(alice, fcr, this_week - timedelta(weeks=1), "missed")
    judge(alice, fcr, this_week, "missed")
    derive()
    assert not CoachingFlag.objects.exists()


def test_each_standard_and_agent_has_its_own_flags(alice, maria, fcr):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    weeks(alice, fcr, "M M")
    weeks(alice, csat, "M m")
    weeks(maria, fcr, "m M M")
    derive()
    assert flags_of(alice, fcr) == [(OPEN, 1, None, [0, 1])]
    assert flags_of(alice, csat) == []
    assert flags_of(maria) == [(OPEN, 2, None, [1, 2])]


def test_deriving_again_writes_nothing(alice, maria, fcr):
    weeks(alice, fcr, "M M m m M M")
    weeks(maria, fcr, "M m M")
    assert derive().opened == 3
    before = list(CoachingFlag.objects.values_list("id", "updated_at"))
    assert derive().writes == 0
    assert list(CoachingFlag.objects.values_list("id", "updated_at")) == before


def test_a_scope_derives_only_its_agents(alice, maria, fcr):
    weeks(alice, fcr, "M M")
    weeks(maria, fcr, "M M")
    derive(alice)
    assert flags_of(alice) and not flags_of(maria)


def test_the_gap_to_target_of_the_latest_miss_is_kept_for_the_queue(alice, fcr):
    aht = make_standard(name="AHT", metric="aht", period="week", target=300)
    weeks(alice, fcr, "M M", values={0: 50.0, 1: 68.0})
    weeks(alice, aht, "M M", values={0: 400.0, 1: 360.0})
    derive()
    assert CoachingFlag.objects.get(standard=fcr).gap == pytest.approx(0.2)  # 17 of 85 short
    assert CoachingFlag.objects.get(standard=aht).gap == pytest.approx(0.2)  # 60 s over 300


def test_the_rule_of_each_weeks_version_applies(alice, fcr):
    fcr.coaching_missed, fcr.coaching_window = 1, 1
    standard_save(standard=fcr, effective_from=week(4), rescore=False)
    weeks(alice, fcr, "M m m m M")
    derive()
    # Under version 1 week 0 alone was 1 of 2 needed; from week 4, one miss is enough.
    assert flags_of(alice) == [(OPEN, 4, None, [4])]
