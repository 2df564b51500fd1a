"""Delivering evaluation changes to the subscribers of `performance.signals` exactly once.

Each subscriber has a cursor: the last change it applied. Delivery locks the cursor, hands
the handler the next change, and advances the cursor in the same transaction as the
handler's writes, one change per transaction: a retried, duplicated or concurrent delivery
(the after-commit signal and the beat catch-up at once) waits on the lock and then finds
the change already applied. Change ids are taken under a lock held until commit
(`evaluation_change_record`), so a change never commits behind one a cursor has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from performance.models import ChangeCursor, EvaluationChange
from performance.signals import EvaluationChangeHandler, change_subscribers, evaluations_changed

logger = logging.getLogger(__name__)

# Changes every subscriber has applied are kept this long, for reading what happened.
CHANGE_RETENTION = timedelta(days=3)
# Any constant key: the advisory lock that orders change ids by commit (PostgreSQL).
CHANGE_ID_LOCK = 0x41_74_65_6E


def evaluation_change_record(
    *,
    first_period_start: date,
    last_period_start: date,
    standard_ids: Collection[int] | None,
    agent_ids: Collection[int] | None,
    batch_id: int | None,
    created: int,
    updated: int,
    deleted: int,
) -> EvaluationChange:
    """Record an evaluation run's change inside its transaction; announce it after commit.

    Call it last in the transaction: the lock taken here, which makes ids follow commit
    order, is held until the commit.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHANGE_ID_LOCK])
    change = EvaluationChange.objects.create(
        first_period_start=first_period_start,
        last_period_start=last_period_start,
        standard_ids=None if standard_ids is None else sorted(standard_ids),
        agent_ids=None if agent_ids is None else sorted(agent_ids),
        batch_id=batch_id,
        created=created,
        updated=updated,
        deleted=deleted,
    )
    transaction.on_commit(
        lambda: evaluations_changed.send(
            sender=EvaluationChange, change_id=change.id, change=change
        )
    )
    return change


def evaluation_changes_deliver(*, subscriber: str | None = None) -> int:
    """Apply every pending change to every subscriber (or the one named), in order.

    Returns the number of (subscriber, change) pairs applied. A handler that raises leaves
    its change pending (nothing it wrote is kept) and stops delivery to that subscriber
    until the next delivery; the others go on.
    """
    names = [subscriber] if subscriber is not None else sorted(change_subscribers)
    applied = 0
    for name in names:
        handler = change_subscribers[name]
        try:
            while _deliver_next(name, handler):
                applied += 1
        except Exception:
            logger.exception("subscriber %r failed on an evaluation change; will retry", name)
    return applied


def _deliver_next(name: str, handler: EvaluationChangeHandler) -> bool:
    ChangeCursor.objects.get_or_create(subscriber=name)
    with transaction.atomic():
        cursor = ChangeCursor.objects.select_for_update().get(subscriber=name)
        change = (
            EvaluationChange.objects.filter(id__gt=cursor.last_change_id).order_by("id").first()
        )
        if change is None:
            return False
        handler(change)
        cursor.last_change_id = change.id
        cursor.save(update_fields=["last_change_id", "updated_at"])
    return True


def evaluation_changes_deliver_on_signal(sender: Any, **kwargs: Any) -> None:
    """The fast path, right after the commit; what it misses, the beat catch-up delivers."""
    evaluation_changes_deliver()


def evaluation_changes_prune(*, now: datetime | None = None) -> int:
    """Delete the changes every subscriber has applied that are older than CHANGE_RETENTION."""
    for name in change_subscribers:
        ChangeCursor.objects.get_or_create(subscriber=name)
    passed = ChangeCursor.objects.filter(subscriber__in=list(change_subscribers)).aggregate(
        last=Min("last_change_id")
    )["last"]
    old = EvaluationChange.objects.filter(created_at__lt=(now or timezone.now()) - CHANGE_RETENTION)
    if passed is not None:
        old = old.filter(id__lte=passed)
    deleted, _ = old.delete()
    return deleted
