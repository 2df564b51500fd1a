"""Exact query counts on the hot pages, beside the "does not grow" checks in each page's
tests: a new query on any of them is a decision, not an accident."""

from __future__ import annotations

import pytest
from django.urls import reverse

from performance.models import Evaluation
from tests.factories import FeedBatchFactory, FeedRowErrorFactory
from tests.scenarios import (
    WEEK_44_TUESDAY,
    login,
    score_week_44,
    team_with_lead_and_agents,
    week_standards,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_week(alice, paulo, bob, carol, dave, source):
    # Another team, so that an admin's pages span several.
    team_with_lead_and_agents(
        "Porto", lead="pedro", agents=["ana", "rui", "joao"], time_zone="Europe/Lisbon"
    )
    standards = week_standards(daily=True)
    score_week_44(alice, paulo, source=source, week_before=True)
    return standards


@pytest.fixture
def batches(source, bob):
    batch = FeedBatchFactory(source=source, uploaded_by=bob, rejected_count=60)
    FeedRowErrorFactory.create_batch(60, batch=batch)
    for _ in range(5):
        FeedBatchFactory(source=source, uploaded_by=bob)
    return batch


def page(name: str, request) -> str:
    match name:
        case "my scorecard":
            return reverse("my-scorecard")
        case "agent scorecard":
            alice = request.getfixturevalue("alice")
            return reverse("agent-scorecard", args=[alice.id]) + f"?date={WEEK_44_TUESDAY}"
        case "heatmap":
            return reverse("team-heatmap") + "?period=2026-W44"
        case "evaluation interactions":
            alice = request.getfixturevalue("alice")
            csat = request.getfixturevalue("scored_week")["csat"]
            evaluation = Evaluation.objects.get(
                agent=alice, standard=csat, period_start="2026-10-26"
            )
            return reverse("evaluation-interactions", args=[evaluation.id])
        case "batch list":
            return reverse("feed-batches")
        case "batch detail":
            return reverse("feed-batch", args=[request.getfixturevalue("batches").id])
        case _:
            return reverse("home")


@pytest.mark.parametrize(
    ("name", "persona", "expected"),
    [
        ("my scorecard", "alice", 4),
        ("agent scorecard", "alice", 7),
        ("agent scorecard", "bob", 7),
        ("agent scorecard", "dave", 7),
        ("heatmap", "bob", 10),
        ("heatmap", "dave", 11),
        # The agent's memberships over the period: each fact is read in the zone of the team
        # the agent was in when it happened (team membership).
        ("evaluation interactions", "alice", 8),
        ("evaluation interactions", "bob", 8),
        ("batch list", "bob", 7),
        ("batch list", "dave", 7),
        # + whether the lead may still upload to the batch's source (the re-process button)
        ("batch detail", "bob", 8),
        # + the agent's points balance, the levels, the leaderboards, badges and streaks
        # (rewards' home panel; two more per board shown: tests/rewards/test_leaderboards.py)
        # and their coaching goals (coaching's); a lead's: the open flags of their teams and
        # the next sessions booked with their agents, and their monitoria (the reviews they
        # are writing, the teams they review).
        ("home", "alice", 12),
        ("home", "bob", 11),
        ("home", "dave", 9),
    ],
)
def test_hot_pages_make_exactly_these_queries(
    client, request, scored_week, batches, name, persona, expected, django_assert_num_queries
):
    url = page(name, request)
    login(client, request.getfixturevalue(persona))
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == (302 if name == "my scorecard" else 200)
