"""Celery tasks: each takes ids, calls one service and is safe to run twice.

Services import these tasks to enqueue their own follow-up work after commit, so every task
imports its service inside its body (at module level the two modules would import each
other). Views, the API, admin and commands call services and never import this module.
"""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(name="performance.process_feed_batch", acks_late=True)
def process_feed_batch(batch_id: int) -> str:
    """Apply a received feed batch. A duplicated delivery finds it claimed and does nothing."""
    from performance.services.ingest import feed_batch_process

    return feed_batch_process(batch_id=batch_id).status


@shared_task(name="performance.evaluate_feed_batch", acks_late=True)
def evaluate_feed_batch(batch_id: int) -> int:
    """Re-score the periods a batch touched. Safe to run twice: evaluations are upserts."""
    from performance.services.evaluation import evaluate_touched_by_batch

    return evaluate_touched_by_batch(batch_id=batch_id).total


@shared_task(name="performance.evaluate_recent_periods", acks_late=True)
def evaluate_recent_periods() -> int:
    """Nightly: score the periods containing the last two days, which closes days, weeks and
    months in every team's zone (at 02:15 UTC yesterday has not ended west of UTC)."""
    from performance.services.evaluation import evaluate_periods

    today = timezone.localdate()
    return evaluate_periods(since=today - timedelta(days=2), until=today - timedelta(days=1)).total


@shared_task(name="performance.evaluate_standard", acks_late=True)
def evaluate_standard(standard_id: int, since: str, until: str | None = None) -> int:
    """Score a new or changed standard from `since` to `until` (default and at most
    yesterday)."""
    from performance.services.evaluation import evaluate_periods

    last = timezone.localdate() - timedelta(days=1)
    if until is not None:
        last = min(last, date.fromisoformat(until))
    first = date.fromisoformat(since)
    if first > last:
        return 0
    return evaluate_periods(since=first, until=last, standard_ids=[standard_id]).total


@shared_task(name="performance.evaluate_agent_since", acks_late=True)
def evaluate_agent_since(agent_id: int, since: str) -> int:
    """Re-score one agent's periods from `since` to today in the agent's team zone (after a
    team move; a move is dated at most MOVE_BACKDATE_DAYS back, so the span is bounded)."""
    from performance.services.organisation import agent_rescore_since

    return agent_rescore_since(agent_id=agent_id, since=date.fromisoformat(since)).total


@shared_task(name="performance.deliver_evaluation_changes", acks_late=True)
def deliver_evaluation_changes() -> int:
    """Hand every subscriber the evaluation changes it has not applied yet, then prune the
    changes all have passed. Runs on beat as the catch-up behind the after-commit signal."""
    from performance.services.changes import evaluation_changes_deliver, evaluation_changes_prune

    delivered = evaluation_changes_deliver()
    evaluation_changes_prune()
    return delivered


@shared_task(name="performance.resume_stalled_feed_batches", acks_late=True)
def resume_stalled_feed_batches() -> int:
    """Every minute on beat: send back the feed batches whose run died (their lease ran out)
    to continue after their last committed chunk. A batch resumed twice is claimed once."""
    from performance.services.ingest import feed_batches_resume_stalled

    return feed_batches_resume_stalled()


@shared_task(name="performance.send_notification_emails", acks_late=True)
def send_notification_emails(pairs: list[tuple[int, str]]) -> int:
    """E-mail notices (user id, key) to those who opted in; each goes once."""
    from performance.services.notifications import notification_emails_send

    return notification_emails_send(pairs=[tuple(pair) for pair in pairs])
