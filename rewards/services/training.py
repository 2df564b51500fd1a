"""Rewards' side of coaching's `training_completed`: each completed assignment earns its
module's points once (reference `training:<assignment id>`), then the agent's badges are
reconciled (the "N trainings completed" criterion counts these entries).

The completed assignments are the durable record: the signal's task awards at once, and
beat's catch-up awards whatever a lost task left (the unique idempotency key makes a
second award impossible)."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coaching.models import TrainingAssignment
from rewards.models import PointsEntry
from rewards.services.ledger import NewEntry, balances_lock, entries_append
from rewards.services.reconcile import ReconcileScope, reconcile
from rewards.tasks import award_trainings as award_trainings_task


def training_reference(assignment_id: int) -> str:
    return f"training:{assignment_id}"


def _note(assignment: TrainingAssignment) -> str:
    # Notes are kept in the site's language, as reconciliation keeps its own.
    with translation.override(settings.LANGUAGE_CODE):
        return _("Training completed: %(module)s") % {"module": assignment.module.title}


def training_points_award(*, assignment_ids: Iterable[int] | None = None) -> int:
    """Award every completed assignment (or those named) that has no entry yet; returns
    how many were awarded."""
    unpaid = (
        TrainingAssignment.objects.select_related("module", "agent__team")
        .filter(status=TrainingAssignment.Status.COMPLETED, completed_at__isnull=False)
        .filter(
            ~Exists(
                PointsEntry.objects.filter(
                    kind=PointsEntry.Kind.TRAINING_COMPLETED,
                    agent_id=OuterRef("agent_id"),
                    reference=Concat(Value("training:"), Cast(OuterRef("pk"), CharField())),
                )
            )
        )
    )
    if assignment_ids is not None:
        unpaid = unpaid.filter(pk__in=list(assignment_ids))
    awarded = 0
    for assignment in unpaid.order_by("pk"):
        with transaction.atomic():
            balances_lock([assignment.agent_id])
            reference = training_reference(assignment.pk)
            if PointsEntry.objects.filter(
                agent_id=assignment.agent_id, reference=reference
            ).exists():
                continue
            day = timezone.localtime(
                assignment.completed_at, ZoneInfo(assignment.agent.team.time_zone)
            ).date()
            entries_append(
                [
                    NewEntry(
                        agent_id=assignment.agent_id,
                        points=assignment.module.points,
                        kind=PointsEntry.Kind.TRAINING_COMPLETED,
                        earned_on=day,
                        reference=reference,
                        idempotency_key=f"agent:{assignment.agent_id}:{reference}:0",
                        note=_note(assignment),
                    )
                ]
            )
        reconcile(ReconcileScope(agent_ids=(assignment.agent_id,)))
        awarded += 1
    return awarded


def training_completed_received(sender: object, *, assignment_id: int, **kwargs: object) -> None:
    """coaching's `training_completed` (sent after its commit): award in a task."""
    award_trainings_task.delay([assignment_id])
