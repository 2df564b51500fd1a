from __future__ import annotations

from celery import shared_task

from performance.services.ingest import feed_batch_process


@shared_task(name="performance.process_feed_batch", acks_late=True)
def process_feed_batch(batch_id: int) -> str:
    """Apply a stored feed batch. Safe to run twice: the facts converge."""
    return feed_batch_process(batch_id=batch_id).status
