"""The rows listed behind an evaluation are the ones its sample counts, for every metric in
the catalog, on every channel or one: the page never shows rows the number did not read."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from performance import selectors
from performance.metrics import METRICS
from performance.models import Evaluation
from performance.services.evaluation import evaluate_periods
from tests.factories import make_interactions, make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 27)


@pytest.fixture
def judged(alice, source):
    """One daily standard per metric (all channels and phone only), judged over facts where
    every input is sometimes present, sometimes missing, on two channels."""
    for metric in METRICS.values():
        for channel in ("", "phone"):
            make_standard(
                name=f"{metric.key} {channel or 'all'}",
                metric=metric.key,
                channel=channel,
                period="day",
                target=1,
                min_sample=1,
                threshold_seconds=60 if metric.needs_threshold else None,
            )
    for channel in ("phone", "chat"):
        make_interactions(
            alice,
            source=source,
            on=DAY,
            count=6,
            channel=channel,
            handle_seconds=[300, None, 200, 100, 50, None],
            first_response_seconds=[30, 90, None, 60, 10, None],
            wait_seconds=[5, None, 20, 0, None, 3],
            csat=[5, 4, None, 2, None, 1],
            nps=[10, 7, 3, None, 9, None],
            ces=[1, None, 7, 4, None, None],
            qa_score=[90, None, None, 70.5, None, None],
            mystery_score=[None, 80, None, None, 55.5, None],
            first_contact_resolution=[True, False, None, True, None, False],
            case_id=["C1", "C1", "C2", "", "C3", "C4"],
            resolved=[True, True, False, True, True, False],
            abandoned=[False, True, False, False, True, False],
            transferred=[True, False, False, True, False, False],
            escalated=[False, False, True, False, False, False],
        )
    evaluate_periods(since=DAY, until=DAY)
    return Evaluation.objects.select_related("standard", "version", "agent__team")


def test_every_metric_lists_exactly_the_rows_its_sample_counts(judged):
    assert judged.count() == 2 * len(METRICS)
    for evaluation in judged:
        metric = METRICS[evaluation.standard.metric]
        rows = list(selectors.evaluation_interactions(evaluation))
        assert metric.sample_of(rows) == evaluation.sample_size, evaluation.standard.name
        if metric.key != "contacts_per_case":
            assert len(rows) == evaluation.sample_size, evaluation.standard.name
        assert evaluation.sample_size > 0
        channels = {row.channel for row in rows}
        assert channels == ({"phone"} if evaluation.standard.channel else {"phone", "chat"})


def test_contacts_per_case_lists_every_contact_and_counts_resolved_cases(judged):
    evaluation = judged.get(standard__name="contacts_per_case all")
    rows = list(selectors.evaluation_interactions(evaluation))
    assert len(rows) == 12  # the numerator: every contact
    assert evaluation.sample_size == 2  # C1 and C3 were resolved (C2 and C4 were not)


def test_every_metric_explains_itself_and_shows_its_input():
    for metric in METRICS.values():
        assert str(metric.explanation)
        assert metric.columns


def test_the_scorecard_api_explains_each_number_as_the_metric_does(client, judged, alice):
    login(client, alice)
    url = reverse("api-agent-scorecard", args=[alice.id])
    body = client.get(url, {"period": DAY.isoformat()}).json()
    assert body["standards"]
    for row in body["standards"]:
        assert row["how_computed"] == str(METRICS[row["metric"]].explanation)
