"""A quality gate is only news when the gated standard had enough data to earn anything."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from performance.models import Evaluation
from performance.services.evaluation import evaluate_periods
from tests.factories import make_interactions, make_standard
from tests.performance.test_views_scorecard import cards

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 10, 26)


@pytest.fixture
def gated(alice, source):
    quality = make_standard(name="Quality", metric="qa", period="week", target=85, min_sample=1)
    speed = make_standard(
        name="Handle time",
        metric="aht",
        period="week",
        target=360,
        min_sample=5,
        quality_gate=quality,
    )
    return speed


def test_insufficient_data_of_its_own_shows_no_gate_warning(client, gated, alice, source):
    make_interactions(alice, source=source, on=MONDAY, count=2, handle_seconds=[300, 310])
    evaluate_periods(since=MONDAY, until=MONDAY)
    evaluation = Evaluation.objects.get(agent=alice, standard=gated)
    assert evaluation.outcome == Evaluation.Outcome.INSUFFICIENT_DATA
    client.force_login(alice.user)

    page = client.get(reverse("agent-scorecard", args=[alice.id]), {"date": "2026-10-28"})
    card = cards(page.content.decode())["Handle time"]
    body = client.get(reverse("api-agent-scorecard", args=[alice.id]), {"period": "2026-10-28"})
    row = next(r for r in body.json()["standards"] if r["standard"]["name"] == "Handle time")

    assert "not met" not in card
    assert "gate-failed" not in card
    assert "Earns points only when Quality is met" in card
    assert row["outcome"] == "insufficient_data"
    assert row["gate_passed"] is None


def test_a_judged_standard_still_warns_when_its_gate_was_not_met(client, gated, alice, source):
    make_interactions(
        alice,
        source=source,
        on=MONDAY,
        count=5,
        handle_seconds=300,
        qa_score=[50, None, None, None, None],
    )
    evaluate_periods(since=MONDAY, until=MONDAY)
    client.force_login(alice.user)

    page = client.get(reverse("agent-scorecard", args=[alice.id]), {"date": "2026-10-28"})
    card = cards(page.content.decode())["Handle time"]
    body = client.get(reverse("api-agent-scorecard", args=[alice.id]), {"period": "2026-10-28"})
    row = next(r for r in body.json()["standards"] if r["standard"]["name"] == "Handle time")

    assert "Quality not met: no points" in card
    assert row["gate_passed"] is False
