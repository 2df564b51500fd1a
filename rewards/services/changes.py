"""Rewards' side of the evaluation seam: each change becomes a reconcile request, written in
the delivery transaction, and a task reconciles it after commit."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from performance.models import EvaluationChange
from rewards.models import ReconcileRequest
from rewards.services.reconcile import ReconcileResult, ReconcileScope, reconcile

# The name rewards consumes evaluation changes under (its cursor in performance).
CHANGE_SUBSCRIBER = "rewards"


def rewards_apply_evaluation_change(change: EvaluationChange) -> None:
    """The subscriber's handler: record the change's scope; reconcile it after commit."""
    from rewards.tasks import reconcile_pending

    ReconcileRequest.objects.create(
        change_id=change.pk,
        first_period_start=change.first_period_start,
        last_period_start=change.last_period_start,
        standard_ids=change.standard_ids,
        agent_ids=change.agent_ids,
        batch_id=change.batch_id,
    )
    reconcile_pending.delay_on_commit()


def request_scope(request: ReconcileRequest) -> ReconcileScope:
    return ReconcileScope(
        agent_ids=tuple(request.agent_ids) if request.agent_ids is not None else None,
        standard_ids=tuple(request.standard_ids) if request.standard_ids is not None else None,
        first_period_start=request.first_period_start,
        last_period_start=request.last_period_start,
        batch_id=request.batch_id,
    )


def reconcile_requests_process() -> int:
    """Reconcile every pending request, oldest first, and mark each done. Two workers on the
    same request both reconcile it; the agents' locks make the second append nothing."""
    appended = 0
    for request in ReconcileRequest.objects.filter(done_at__isnull=True).order_by("id"):
        result: ReconcileResult = reconcile(request_scope(request))
        appended += result.entries
        ReconcileRequest.objects.filter(pk=request.pk, done_at__isnull=True).update(
            done_at=timezone.now()
        )
    return appended


def reconcile_requests_pending() -> int:
    return ReconcileRequest.objects.filter(done_at__isnull=True).count()


@transaction.atomic
def reconcile_requests_prune(*, before) -> int:
    deleted, _ = ReconcileRequest.objects.filter(done_at__lt=before).delete()
    return deleted
