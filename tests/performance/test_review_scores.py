"""A QA review's score on an interaction (issue 10 §2): written as a batch of the interaction's
own source (stored, counted, scoped, re-scored once), and winning over feeds' qa_score, which
is kept beside it as the feed's and counted as kept aside, never silently applied."""

from __future__ import annotations

import json

import pytest

from performance.models import FeedBatch, Interaction
from performance.services.ingest import (
    QAScoreRefused,
    batch_file_path,
    batch_report,
    interaction_qa_scores_set,
)
from tests.factories import make_admin, make_quality_analyst
from tests.performance.helpers import ingest_text

pytestmark = pytest.mark.django_db


def interaction_qa_score_set(*, interaction, score, by, reference):
    """One review's score: its source's batch."""
    batches = interaction_qa_scores_set(scores=[(interaction, score)], by=by, reference=reference)
    return batches[interaction.source_id]


HEADER = "external_id,agent,channel,started_at,qa_score\n"


@pytest.fixture
def call(source, alice, tmp_path):
    ingest_text(source, HEADER + "C-1,A1,phone,2026-10-05T10:00:00Z,70\n", tmp_path)
    return Interaction.objects.get(external_id="C-1")


def test_a_feeds_score_is_the_score_and_the_feeds(call):
    assert (call.qa_score, call.feed_qa_score, call.qa_reviewed) == (70.0, 70.0, False)


def test_a_review_score_is_a_stored_batch_of_the_interactions_source(
    call, lisbon, django_capture_on_commit_callbacks
):
    monitor = make_quality_analyst(lisbon, username="monica")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = interaction_qa_score_set(
            interaction=call, score=85.5, by=monitor, reference="qa-review-7"
        )
    assert (batch.source_id, batch.via, batch.uploaded_by, batch.status) == (
        call.source_id,
        FeedBatch.Via.REVIEW,
        monitor,
        FeedBatch.Status.COMPLETED,
    )
    assert batch.original_name == "qa-review-7.jsonl" and batch.updated_count == 1
    assert json.loads(batch_file_path(batch).read_text()) == {
        "external_id": "C-1",
        "qa_score": 85.5,
    }
    call.refresh_from_db()
    assert (call.qa_score, call.feed_qa_score, call.qa_reviewed) == (85.5, 70.0, True)
    assert call.batch_id == batch.id
    assert list(batch.touches.values_list("agent__user__username", "local_date")) == [
        ("alice", call.started_at.date())
    ]
    assert len(callbacks) == 1  # the one re-scoring of what it touched


def test_a_feeds_later_score_is_kept_aside_and_counted(call, source, tmp_path):
    interaction_qa_score_set(interaction=call, score=90, by=make_admin(), reference="r")
    later = ingest_text(source, "external_id,qa_score\nC-1,40\n", tmp_path, name="b.csv")
    call.refresh_from_db()
    assert (call.qa_score, call.feed_qa_score) == (90.0, 40.0)
    assert (later.updated_count, later.qa_kept_aside_count) == (1, 1)
    assert batch_report(later)["qa_kept_aside"] == 1
    again = ingest_text(source, "external_id,qa_score\nC-1,40\n", tmp_path, name="c.csv")
    assert (again.unchanged_count, again.qa_kept_aside_count) == (1, 0)
    # Other fields of the same row still apply.
    ingest_text(source, "external_id,csat,qa_score\nC-1,5,10\n", tmp_path, name="d.csv")
    call.refresh_from_db()
    assert (call.csat, call.qa_score, call.feed_qa_score) == (5, 90.0, 10.0)


def test_a_new_review_replaces_an_earlier_reviews_score(call):
    admin = make_admin()
    interaction_qa_score_set(interaction=call, score=90, by=admin, reference="r1")
    interaction_qa_score_set(interaction=call, score=60, by=admin, reference="r2")
    call.refresh_from_db()
    assert (call.qa_score, call.feed_qa_score) == (60.0, 70.0)


def test_the_reviewer_writes_only_for_the_teams_they_review(call, sao_paulo):
    outsider = make_quality_analyst(sao_paulo, username="otto")
    with pytest.raises(QAScoreRefused) as refused:
        interaction_qa_score_set(interaction=call, score=10, by=outsider, reference="r")
    assert "C-1" in refused.value.reasons[0]
    call.refresh_from_db()
    assert (call.qa_score, call.qa_reviewed) == (70.0, False)


def test_the_source_mapping_does_not_apply_to_a_reviews_row(call, source):
    source.column_mapping = {"Nota": "qa_score", "Protocolo": "external_id"}
    source.save()
    interaction_qa_score_set(interaction=call, score=77, by=make_admin(), reference="r")
    call.refresh_from_db()
    assert call.qa_score == 77.0
