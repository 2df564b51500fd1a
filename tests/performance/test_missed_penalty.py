"""Penalty points: a missed period costs the standard's `points_missed_penalty`; insufficient
data never does, and a quality gate takes away what a period earns without excusing a miss."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import Evaluation
from performance.services.evaluation import evaluate_periods
from performance.services.standards import standard_save
from tests.factories import make_interactions, make_standard, standard_draft
from tests.scenarios import agent_in

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 29)
_agents = itertools.count()


def judged(standard, **filters) -> tuple:
    evaluation = Evaluation.objects.get(standard=standard, period_start=DAY, **filters)
    return evaluation.outcome, evaluation.gate_passed, evaluation.points


def test_a_missed_period_costs_the_penalty(alice, source):
    csat = make_standard(metric="csat", target=80, points_missed_penalty=10)
    make_interactions(alice, source=source, on=DAY, csat=2)
    evaluate_periods(since=DAY, until=DAY)
    assert judged(csat) == ("missed", None, -10)


def test_the_penalty_is_none_by_default(alice, source):
    csat = make_standard(metric="csat", target=80)
    assert csat.points_missed_penalty == 0
    make_interactions(alice, source=source, on=DAY, csat=2)
    evaluate_periods(since=DAY, until=DAY)
    assert judged(csat) == ("missed", None, 0)


def test_insufficient_data_is_never_penalised(alice, source):
    csat = make_standard(metric="csat", target=80, min_sample=3, points_missed_penalty=10)
    make_interactions(alice, source=source, on=DAY, count=2, csat=1)
    evaluate_periods(since=DAY, until=DAY)
    assert judged(csat) == ("insufficient_data", None, 0)


def test_an_agent_without_contacts_is_never_penalised(alice):
    csat = make_standard(metric="csat", target=80, points_missed_penalty=10)
    evaluate_periods(since=DAY, until=DAY)
    assert judged(csat) == ("insufficient_data", None, 0)


def test_met_and_exceeded_pay_as_before(alice, maria, source):
    make_standard(metric="csat", target=50, stretch_target=90, points_missed_penalty=10)
    make_interactions(alice, source=source, on=DAY, csat=5)
    make_interactions(maria, source=source, on=DAY, count=3, csat=[5, 4, 1])
    evaluate_periods(since=DAY, until=DAY)
    points = dict(Evaluation.objects.values_list("agent_id", "points"))
    assert points == {alice.pk: 20, maria.pk: 10}


class TestWithAQualityGate:
    """Speed never pays when quality fails; a met speed period behind a failed gate earns 0,
    not a penalty; a missed one costs its penalty whatever the gate."""

    @pytest.fixture
    def speed(self):
        quality = make_standard(name="CSAT", metric="csat", target=80)
        return make_standard(
            name="AHT",
            metric="aht",
            target=300,
            quality_gate=quality,
            points_met=15,
            points_missed_penalty=5,
        )

    def test_met_behind_a_failed_gate_earns_nothing_and_costs_nothing(self, alice, source, speed):
        make_interactions(alice, source=source, on=DAY, handle_seconds=200, csat=1)
        evaluate_periods(since=DAY, until=DAY)
        assert judged(speed) == ("met", False, 0)

    def test_missed_behind_a_failed_gate_costs_the_penalty(self, alice, source, speed):
        make_interactions(alice, source=source, on=DAY, handle_seconds=900, csat=1)
        evaluate_periods(since=DAY, until=DAY)
        assert judged(speed) == ("missed", False, -5)

    def test_missed_behind_a_passed_gate_costs_the_penalty(self, alice, source, speed):
        make_interactions(alice, source=source, on=DAY, handle_seconds=900, csat=5)
        evaluate_periods(since=DAY, until=DAY)
        assert judged(speed) == ("missed", True, -5)


def test_a_penalty_change_makes_a_version_and_rescores_missed_periods(
    alice, source, django_capture_on_commit_callbacks
):
    csat = make_standard(metric="csat", target=80, active_from=date(2026, 10, 1))
    make_interactions(alice, source=source, on=DAY, csat=2)
    evaluate_periods(since=DAY, until=DAY)
    assert judged(csat) == ("missed", None, 0)
    csat.points_missed_penalty = 7
    with django_capture_on_commit_callbacks(execute=True):
        version = standard_save(standard=csat, effective_from=date(2026, 10, 1))
    assert (version.number, version.points_missed_penalty) == (2, 7)
    assert judged(csat) == ("missed", None, -7)


@pytest.mark.parametrize(
    ("penalty", "message"),
    [(-1, "greater than or equal to 0"), (10_001, "less than or equal to 10000")],
)
def test_the_penalty_is_bounded_like_the_other_points(penalty, message):
    with pytest.raises(ValidationError) as error:
        standard_draft(points_missed_penalty=penalty).full_clean(exclude=["teams"])
    assert message in " ".join(error.value.message_dict["points_missed_penalty"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    surveys=st.lists(st.integers(1, 5), max_size=6),
    min_sample=st.integers(1, 4),
    penalty=st.integers(0, 50),
)
def test_only_a_miss_is_ever_negative_and_it_costs_exactly_the_penalty(
    lisbon, source, surveys, min_sample, penalty
):
    agent = agent_in(lisbon, f"agent-{next(_agents)}")
    csat = make_standard(
        metric="csat", target=60, min_sample=min_sample, points_missed_penalty=penalty
    )
    if surveys:
        make_interactions(agent, source=source, on=DAY, count=len(surveys), csat=surveys)
    evaluate_periods(since=DAY, until=DAY, agent_ids=[agent.pk], standard_ids=[csat.pk])
    outcome, _gate, points = judged(csat, agent=agent)
    if outcome == "missed":
        assert points == -penalty
    else:
        assert points >= 0
        if outcome == "insufficient_data":
            assert points == 0
