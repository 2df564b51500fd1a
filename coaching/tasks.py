"""Celery tasks: each calls one service and is safe to run twice (derivation writes only
what the stored flags lack). Services import them to enqueue their own follow-up work;
views, the API, admin and commands never do."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="coaching.derive_pending", acks_late=True)
def derive_pending() -> int:
    """Derive the flags of the scopes the evaluation seam recorded; returns the writes."""
    from coaching.services.flags import flag_requests_process

    return flag_requests_process().writes


@shared_task(name="coaching.derive_all", acks_late=True)
def derive_all() -> int:
    """Nightly, after the night's evaluation: every agent and standard (periods that closed
    since, which no evaluation change announces, open and resolve flags)."""
    from datetime import timedelta

    from django.utils import timezone

    from coaching.services.flags import flag_requests_prune, flags_derive

    writes = flags_derive().writes
    flag_requests_prune(before=timezone.now() - timedelta(days=7))
    return writes


@shared_task(name="coaching.send_session_invitations", acks_late=True)
def send_session_invitations(session_id: int) -> int:
    """E-mail a session's invitation (.ics) as it stands now to its coach and agent."""
    from coaching.services.sessions import session_invitations_send

    return session_invitations_send(session_id=session_id)


@shared_task(name="coaching.notify_follow_ups")
def notify_follow_ups() -> int:
    """Hourly: tell coaches, once each, that a session's follow-up date has come."""
    from coaching.services.sessions import session_follow_ups_notify

    return session_follow_ups_notify()


@shared_task(name="coaching.extend_series")
def extend_series() -> int:
    """Daily: book every active one-to-one series a few weeks ahead."""
    from coaching.services.sessions import series_extend_all

    return series_extend_all()


@shared_task(name="coaching.training_reminders")
def training_reminders() -> int:
    """Hourly: overdue marks and due-soon/overdue reminders, each notice once."""
    from coaching.services.training import training_reminders_send

    return training_reminders_send()


@shared_task(name="coaching.sample_review_plans")
def sample_review_plans() -> int:
    """Nightly: draw each review plan's sample of the period that closed."""
    from coaching.services.quality_plans import plans_sample_due

    return plans_sample_due()
