"""Celery tasks: each calls one service and is safe to run twice (reconciliation appends
only what the ledger lacks). Services import them to enqueue their own follow-up work;
views, the API, admin and commands never do."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="rewards.reconcile_pending", acks_late=True)
def reconcile_pending() -> int:
    """Reconcile the scopes the evaluation seam recorded; returns the entries appended."""
    from rewards.services.changes import reconcile_requests_process

    return reconcile_requests_process()


@shared_task(name="rewards.reconcile_all", acks_late=True)
def reconcile_all() -> int:
    """Nightly, after the night's evaluation: every agent, every period (closes the periods
    that ended since, which no evaluation change announces)."""
    from datetime import timedelta

    from django.utils import timezone

    from rewards.services.changes import reconcile_requests_prune
    from rewards.services.reconcile import reconcile

    appended = reconcile().entries
    reconcile_requests_prune(before=timezone.now() - timedelta(days=7))
    return appended
