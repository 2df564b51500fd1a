"""Each metric formula against hand-computed cases, through the real engine."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from performance.models import Evaluation
from performance.services.evaluation import evaluate_periods
from tests.factories import InteractionFactory, make_standard

DAY = date(2026, 10, 29)  # Lisbon is on UTC+0 after 25 October


def contact(agent, source, **fields):
    fields.setdefault("started_at", datetime(2026, 10, 29, 12, 0, tzinfo=UTC))
    fields.setdefault("channel", "phone")
    return InteractionFactory(agent=agent, source=source, **fields)


def evaluate(standard, agent) -> Evaluation:
    evaluate_periods(since=DAY, until=DAY)
    return Evaluation.objects.get(standard=standard, agent=agent, period_start=DAY)


@pytest.fixture
def agent(alice):
    return alice


@pytest.mark.django_db
class TestFormulas:
    def test_aht_is_the_mean_handle_time_without_abandoned_contacts(self, agent, source):
        for seconds in (100, 200):
            contact(agent, source, handle_seconds=seconds)
        contact(agent, source, handle_seconds=900, abandoned=True)
        contact(agent, source, handle_seconds=None)
        contact(agent, source, handle_seconds=300, abandoned=False)
        e = evaluate(make_standard(metric="aht", target=360), agent)
        assert (e.value, e.sample_size, e.outcome) == (200, 3, "met")

    def test_frt_and_asa_are_means(self, agent, source):
        contact(agent, source, first_response_seconds=30, wait_seconds=10)
        contact(agent, source, first_response_seconds=90, wait_seconds=None)
        frt = make_standard(metric="frt", target=60)
        asa = make_standard(metric="asa", target=60)
        assert (evaluate(frt, agent).value, evaluate(frt, agent).sample_size) == (60, 2)
        assert (evaluate(asa, agent).value, evaluate(asa, agent).sample_size) == (10, 1)

    def test_sla_counts_first_responses_within_the_threshold(self, agent, source):
        for seconds in (30, 60, 61, None):
            contact(agent, source, first_response_seconds=seconds)
        e = evaluate(make_standard(metric="sla", threshold_seconds=60, target=80), agent)
        assert (e.value, e.sample_size, e.outcome) == (pytest.approx(66.666667), 3, "missed")

    def test_fcr_is_among_rows_where_it_is_known(self, agent, source):
        for known in (True, False, True, None):
            contact(agent, source, first_contact_resolution=known)
        e = evaluate(make_standard(metric="fcr", target=60), agent)
        assert (e.value, e.sample_size, e.outcome) == (pytest.approx(66.666667), 3, "met")

    def test_csat_is_the_share_of_4_and_5(self, agent, source):
        for score in (5, 4, 3, None, 1):
            contact(agent, source, csat=score)
        e = evaluate(make_standard(metric="csat", target=50), agent)
        assert (e.value, e.sample_size, e.outcome) == (50, 4, "met")

    @pytest.mark.parametrize(
        ("scores", "expected"),
        [
            ((10, 9, 8, 6, 0), 0),
            ((10, 10, 7), pytest.approx(66.666667)),
            ((0, 6), -100),
            ((9,), 100),
        ],
    )
    def test_nps_is_promoters_minus_detractors(self, agent, source, scores, expected):
        for score in scores:
            contact(agent, source, nps=score)
        contact(agent, source, nps=None)
        e = evaluate(make_standard(metric="nps", target=30), agent)
        assert (e.value, e.sample_size) == (expected, len(scores))

    def test_ces_and_qa_are_means(self, agent, source):
        contact(agent, source, ces=2, qa_score=80)
        contact(agent, source, ces=5, qa_score=95.5)
        contact(agent, source, ces=None, qa_score=None)
        ces = make_standard(metric="ces", target=3)
        qa = make_standard(metric="qa", target=85)
        assert (evaluate(ces, agent).value, evaluate(ces, agent).outcome) == (3.5, "missed")
        assert (evaluate(qa, agent).value, evaluate(qa, agent).sample_size) == (87.75, 2)

    def test_contacts_per_case_is_interactions_over_distinct_resolved_cases(self, agent, source):
        for case, resolved in [
            ("A", False),
            ("A", False),
            ("A", True),
            ("B", True),
            ("C", False),
            ("C", False),
            ("", True),
        ]:
            contact(agent, source, case_id=case, resolved=resolved)
        e = evaluate(make_standard(metric="contacts_per_case", target=2), agent)
        assert (e.value, e.sample_size, e.outcome) == (3.5, 2, "missed")

    @pytest.mark.parametrize(
        ("metric", "flag"),
        [
            ("transfer_rate", "transferred"),
            ("escalation_rate", "escalated"),
            ("abandonment_rate", "abandoned"),
        ],
    )
    def test_rates_are_percent_of_interactions(self, agent, source, metric, flag):
        for value in (True, False, None, False):
            contact(agent, source, **{flag: value})
        e = evaluate(make_standard(metric=metric, target=20), agent)
        assert (e.value, e.sample_size, e.outcome) == (25, 4, "missed")

    def test_volume_counts_interactions(self, agent, source):
        for _ in range(4):
            contact(agent, source)
        e = evaluate(make_standard(metric="volume", target=3, stretch_target=4), agent)
        assert (e.value, e.sample_size, e.outcome) == (4, 4, "exceeded")

    def test_channel_filter(self, agent, source):
        contact(agent, source, channel="chat", csat=5)
        contact(agent, source, channel="phone", csat=1)
        e = evaluate(make_standard(metric="csat", channel="chat", target=80), agent)
        assert (e.value, e.sample_size) == (100, 1)


@pytest.mark.django_db
class TestOutcomes:
    def test_no_data_is_insufficient(self, agent, source):
        e = evaluate(make_standard(metric="csat"), agent)
        assert (e.value, e.sample_size, e.outcome, e.points) == (None, 0, "insufficient_data", 0)

    def test_interactions_without_survey_fields_are_insufficient(self, agent, source):
        contact(agent, source, csat=None)
        e = evaluate(make_standard(metric="csat"), agent)
        assert (e.value, e.sample_size, e.outcome) == (None, 0, "insufficient_data")

    def test_exactly_min_sample_is_enough_and_one_less_is_not(self, agent, source, paulo):
        for score in (5, 5, 5):
            contact(agent, source, csat=score)
        for score in (5, 5):
            contact(paulo, source, csat=score)
        standard = make_standard(metric="csat", min_sample=3, target=80)
        assert evaluate(standard, agent).outcome == "met"
        assert Evaluation.objects.get(agent=paulo, standard=standard).outcome == "insufficient_data"

    @pytest.mark.parametrize(
        ("value", "outcome", "points"),
        [
            (95, "exceeded", 20),
            (90, "exceeded", 20),
            (85, "met", 10),
            (80, "met", 10),
            (79, "missed", 0),
        ],
    )
    def test_higher_is_better_with_stretch(self, agent, source, value, outcome, points):
        contact(agent, source, qa_score=value)
        e = evaluate(make_standard(metric="qa", target=80, stretch_target=90), agent)
        assert (e.outcome, e.points) == (outcome, points)

    @pytest.mark.parametrize(
        ("seconds", "outcome"),
        [(200, "exceeded"), (240, "exceeded"), (300, "met"), (360, "met"), (361, "missed")],
    )
    def test_lower_is_better_with_stretch(self, agent, source, seconds, outcome):
        contact(agent, source, handle_seconds=seconds)
        e = evaluate(make_standard(metric="aht", target=360, stretch_target=240), agent)
        assert e.outcome == outcome
