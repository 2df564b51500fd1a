from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from performance.services.evaluation import evaluate_periods, evaluate_touched_by_batch
from performance.services.ingest import feed_batch_process


@shared_task(name="performance.process_feed_batch", acks_late=True)
def process_feed_batch(batch_id: int) -> str:
    """Apply a stored feed batch. Safe to run twice: the facts converge."""
    return feed_batch_process(batch_id=batch_id).status


@shared_task(name="performance.evaluate_feed_batch", acks_late=True)
def evaluate_feed_batch(batch_id: int) -> int:
    """Re-score the periods a batch touched. Safe to run twice: evaluations are upserts."""
    return evaluate_touched_by_batch(batch_id=batch_id).total


@shared_task(name="performance.evaluate_recent_periods", acks_late=True)
def evaluate_recent_periods() -> int:
    """Nightly: score the periods containing the last two days, which closes days, weeks and
    months in every team's zone (at 02:15 UTC yesterday has not ended west of UTC)."""
    today = timezone.localdate()
    return evaluate_periods(since=today - timedelta(days=2), until=today - timedelta(days=1)).total


@shared_task(name="performance.evaluate_standard", acks_late=True)
def evaluate_standard(standard_id: int, since: str) -> int:
    """Score a new or changed standard from `since` to yesterday."""
    first, last = date.fromisoformat(since), timezone.localdate() - timedelta(days=1)
    if first > last:
        return 0
    return evaluate_periods(since=first, until=last, standard_ids=[standard_id]).total
