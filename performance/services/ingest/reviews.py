"""A QA review's score written as a feed row: the audited write path every fact change takes.

A finished review (coaching's monitoria) sets its interaction's QA score (a mystery-shopping
review: its mystery-shopper score) by sending one partial row, `{"external_id": ...,
"qa_score": ...}`, as a batch of the interaction's own
source received via "review" and sent by the reviewer. It is stored as received, counted,
scoped to the teams the reviewer reviews, explained like any batch, and re-scores the periods
it touched once, after commit. From then on the review's score wins over feeds' (see
`ChunkApplier._qa_score_rule`): a feed's later `qa_score` is kept beside it as the feed's.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser

from performance.models import FeedBatch, FeedSource, Interaction
from performance.services.ingest.batches import feed_batch_process, feed_batch_receive

REVIEW_FIELDS = ("qa_score", "mystery_score")


class QAScoreRefused(Exception):
    """The score was not written; `reasons` say why, in the active language."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def interaction_qa_scores_set(
    *,
    scores: Sequence[tuple[Interaction, float]],
    by: AbstractBaseUser,
    reference: str,
    field: str = "qa_score",
) -> dict[int, FeedBatch]:
    """Write reviews' scores on their interactions (`field`: qa_score, or mystery_score for
    mystery-shopping reviews): one batch per source (by source id), processed at once in the
    caller's transaction; `reference` names the reviews in the stored files' names. Raises
    QAScoreRefused when any row is refused: the caller rolls back."""
    if field not in REVIEW_FIELDS:
        raise ValueError(f"a review writes {', '.join(REVIEW_FIELDS)}, not {field}")
    rows_by_source: dict[int, list[str]] = {}
    for interaction, score in scores:
        row = json.dumps({"external_id": interaction.external_id, field: score})
        rows_by_source.setdefault(interaction.source_id, []).append(row)
    batches = {}
    for source in FeedSource.objects.filter(pk__in=rows_by_source).order_by("pk"):
        payload = "\n".join(rows_by_source[source.pk]) + "\n"
        batch = feed_batch_receive(
            source=source,
            stream=io.BytesIO(payload.encode()),
            original_name=f"{reference}.jsonl",
            format=FeedSource.Format.JSONL,
            via=FeedBatch.Via.REVIEW,
            uploaded_by=by,
        )
        if batch.status == FeedBatch.Status.RECEIVED:
            batch = feed_batch_process(batch_id=batch.id)
        if batch.status != FeedBatch.Status.COMPLETED or batch.rejected_count:
            reasons = [error.reason_text for error in batch.row_errors.all()]
            raise QAScoreRefused(reasons or [batch.error_text])
        batches[source.pk] = batch
    return batches
