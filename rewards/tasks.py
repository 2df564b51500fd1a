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


@shared_task(name="rewards.reconcile_agents", acks_late=True)
def reconcile_agents(agent_ids: list[int]) -> int:
    """Reconcile these agents (e.g. a challenge's winners once its results are final)."""
    from rewards.services.reconcile import ReconcileScope, reconcile

    return reconcile(ReconcileScope(agent_ids=tuple(agent_ids))).entries


@shared_task(name="rewards.finalize_challenges", acks_late=True)
def finalize_challenges() -> int:
    """Make final the challenges whose grace period is over; returns how many."""
    from rewards.services.challenges import challenges_finalize_due

    return challenges_finalize_due()


@shared_task(name="rewards.award_trainings", acks_late=True)
def award_trainings(assignment_ids: list[int] | None = None) -> int:
    """Points for completed trainings not paid yet (after coaching's training_completed,
    and every ten minutes from beat for any a lost task left)."""
    from rewards.services.training import training_points_award

    return training_points_award(assignment_ids=assignment_ids)
