"""Ingesting KPI feeds: receive a file as-is, then apply its rows as facts (batches), a
chunk at a time (chunks), through the fact store."""

from performance.services.ingest.batches import (
    batch_file_path,
    batch_report,
    feed_batch_process,
    feed_batch_queue,
    feed_batch_receive,
    feed_batch_requeue,
    feed_batch_resume,
    feed_batches_resume_stalled,
    ingest_feed_file,
    storage_root,
)
from performance.services.ingest.reviews import (
    QAScoreRefused,
    interaction_qa_scores_set,
)

__all__ = [
    "QAScoreRefused",
    "batch_file_path",
    "batch_report",
    "feed_batch_process",
    "feed_batch_queue",
    "feed_batch_receive",
    "feed_batch_requeue",
    "feed_batch_resume",
    "feed_batches_resume_stalled",
    "ingest_feed_file",
    "interaction_qa_scores_set",
    "storage_root",
]
