"""The demo's monitoria (issue 10 §6): two pt-BR forms (voice and chat), reviews through the
real services (each score on its interaction via a review batch), drafts left for the
analyst, acknowledgements, and a demo analyst who signs in to it; seeding again adds none."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db.models import Count

from coaching.models import QAAssignment, QACalibration, QADispute, QAForm, QAReview
from performance.models import FeedBatch, Interaction

pytestmark = pytest.mark.django_db


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--days", "40", "--agents", "6", stdout=out)
    return out.getvalue()


def test_the_demo_reviews_interactions_on_two_pt_br_forms(client):
    output = seed_demo()
    assert set(QAForm.objects.values_list("name", "channel_id", "kind")) == {
        ("Monitoria de voz", "phone", "monitoring"),
        ("Monitoria de chat", "chat", "monitoring"),
        ("Cliente oculto: telefone", "phone", "mystery"),
    }
    # Mystery-shopper calls reviewed apart: their score is the calls' mystery-shopper score.
    mystery = QAReview.objects.filter(status="finished", version__form__kind="mystery")
    assert mystery.exists()
    assert all(
        r.interaction.mystery_score == r.score for r in mystery.select_related("interaction")
    )
    finished = QAReview.objects.filter(
        status="finished", calibration=None, version__form__kind="monitoring"
    )
    assert finished.count() >= 6 * 2 - 4 and QAReview.objects.filter(status="draft").count() == 4
    seeded = int(re.search(r"(\d+) reviews finished", output).group(1))
    assert 0 < seeded <= finished.count()
    assert finished.filter(acknowledged_at__isnull=False).exists()
    assert all(review.finished_at > review.interaction.started_at for review in finished)
    # Each score is on its interaction, written by a review batch.
    for review in finished.select_related("interaction", "batch"):
        assert review.interaction.qa_score == review.score and review.interaction.qa_reviewed
        assert review.batch.via == FeedBatch.Via.REVIEW
    reviewers = set(finished.values_list("reviewer__username", flat=True))
    assert "monitor" in reviewers
    assert finished.values("interaction").annotate(n=Count("pk")).filter(n__gt=1).count() == 0
    assert Interaction.objects.filter(qa_reviewed=True).count() == finished.count()

    # Disputes in each state; decided ones by the team's lead, never the review's author.
    disputes = QADispute.objects.select_related("review")
    assert {dispute.status for dispute in disputes} == {"open", "accepted", "rejected"}
    for dispute in disputes.exclude(status="open"):
        assert dispute.decided_by_id != dispute.review.reviewer_id
        if dispute.status == "accepted":
            assert dispute.score_after > dispute.score_before

    # A weekly plan drew the last closed weeks for the analyst, none already reviewed.
    drawn = QAAssignment.objects.all()
    assert drawn.exists() and set(drawn.values_list("analyst__username", flat=True)) == {"monitor"}
    others = QAReview.objects.filter(assignment__isnull=True, calibration=None)
    assert not drawn.filter(interaction__in=others.values("interaction")).exists()

    # One closed calibration session, which touched no agent's score.
    session = QACalibration.objects.get()
    assert session.status == "closed" and session.reference is not None
    assert not Interaction.objects.filter(pk=session.interaction_id, qa_reviewed=True).exists()

    assert client.login(username="monitor", password="atendo-monitor")
    assert "Monitoria de voz" in client.get("/coaching/quality/").content.decode()

    before = QAReview.objects.filter(status="finished").count()
    seed_demo()
    assert QAReview.objects.filter(status="finished").count() == before
