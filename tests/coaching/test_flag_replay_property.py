"""Flags are derived by replaying closed periods in order: scoring a backlog at once gives the
same flags as living through it week by week, whatever the outcomes and the rule."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching.models import CoachingFlag
from coaching.services.flags import FlagScope, flags_derive
from performance.models import Evaluation
from tests.coaching.helpers import flags_of, weeks
from tests.factories import make_standard

pytestmark = pytest.mark.django_db

HISTORY = st.text(alphabet="MMmegi-", min_size=1, max_size=14)
RULE = st.tuples(st.integers(1, 3), st.integers(0, 2), st.integers(1, 3)).map(
    lambda rule: (rule[0], rule[0] + rule[1], rule[2])  # K, N >= K, M
)


@pytest.fixture
def standards(db):
    return [make_standard(name=name, metric="fcr", period="week", target=85) for name in ("A", "B")]


def set_rule(standard, rule):
    standard.coaching_missed, standard.coaching_window, standard.coaching_resolve_after = rule
    type(standard).objects.filter(pk=standard.pk).update(
        coaching_missed=rule[0], coaching_window=rule[1], coaching_resolve_after=rule[2]
    )
    standard.versions.update(
        coaching_missed=rule[0], coaching_window=rule[1], coaching_resolve_after=rule[2]
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(histories=st.tuples(HISTORY, HISTORY), rules=st.tuples(RULE, RULE))
def test_a_backlog_derived_at_once_gives_the_flags_of_week_by_week(
    alice, standards, histories, rules
):
    Evaluation.objects.all().delete()
    CoachingFlag.objects.all().delete()
    for standard, rule in zip(standards, rules, strict=True):
        set_rule(standard, rule)

    for index in range(max(len(history) for history in histories)):
        for standard, history in zip(standards, histories, strict=True):
            if index < len(history):
                weeks(alice, standard, history[index], first=index)
        flags_derive(scope=FlagScope())
    week_by_week = [flags_of(alice, standard) for standard in standards]

    CoachingFlag.objects.all().delete()
    flags_derive(scope=FlagScope())
    assert [flags_of(alice, standard) for standard in standards] == week_by_week
    assert flags_derive(scope=FlagScope()).writes == 0
    assert CoachingFlag.objects.filter(status="withdrawn").count() == 0
