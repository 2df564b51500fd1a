"""Calibration sessions: several reviewers score one interaction blind on the same form
version; the facilitator then records the reference answers agreed, and each reviewer's
alignment with it (items answered alike, score gap) is what the session measures. Calibration
reviews are never written on the interaction, never shown to the agent, never disputed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coaching.models import QACalibration, QAForm, QAReview
from coaching.services.quality import (
    Answer,
    form_version_current,
    review_answers_save,
    reviews_finish,
)
from performance.access import interactions_reviewable_by

MIN_PARTICIPANTS = 2


def _may_review(user, interaction_id: int) -> bool:
    return interactions_reviewable_by(user).filter(pk=interaction_id).exists()


@transaction.atomic
def calibration_open(
    *, by, title: str, interaction_id: int, form: QAForm, participant_ids: Sequence[int]
) -> QACalibration:
    """A session on an interaction the facilitator may review, for reviewers who may review
    it too (at least two), on the form's current version."""
    errors: dict[str, str] = {}
    if not _may_review(by, interaction_id):
        errors["interaction"] = _("You may not review this interaction.")
    if not title.strip():
        errors["title"] = _("Give the session a title.")
    if not form.active:
        errors["form"] = _("This form is no longer in use.")
    people = list(get_user_model().objects.filter(pk__in=set(participant_ids)).order_by("pk"))
    if len(people) < MIN_PARTICIPANTS:
        errors["participants"] = _("Choose at least two reviewers.")
    elif "interaction" not in errors:
        outsiders = [
            person.get_full_name() or person.username
            for person in people
            if not _may_review(person, interaction_id)
        ]
        if outsiders:
            errors["participants"] = _("Not reviewers of this interaction's team: %(names)s.") % {
                "names": ", ".join(outsiders)
            }
    if errors:
        raise ValidationError(errors)
    calibration = QACalibration.objects.create(
        title=title.strip()[:120],
        interaction_id=interaction_id,
        version=form_version_current(form),
        facilitator=by,
    )
    calibration.participants.set(people)
    return calibration


@transaction.atomic
def calibration_review(calibration: QACalibration, *, reviewer) -> QAReview:
    """The participant's own blind review in the session (a draft until they finish it)."""
    calibration = QACalibration.objects.select_for_update().get(pk=calibration.pk)
    if not calibration.participants.filter(pk=reviewer.pk).exists():
        raise ValidationError(_("You are not a participant of this session."))
    own = calibration.reviews.filter(reviewer=reviewer).exclude(pk=calibration.reference_id)
    if (review := own.first()) is not None:
        return review
    if calibration.status != QACalibration.Status.OPEN:
        raise ValidationError(_("This calibration session is closed."))
    return _session_review(calibration, reviewer)


def _session_review(calibration: QACalibration, reviewer) -> QAReview:
    interaction = calibration.interaction
    return QAReview.objects.create(
        interaction=interaction,
        agent_id=interaction.agent_id,
        version=calibration.version,
        reviewer=reviewer,
        calibration=calibration,
    )


@transaction.atomic
def calibration_close(
    calibration: QACalibration,
    *,
    by,
    answers: Mapping[str, tuple[Answer, str]],
    notes: str = "",
) -> QACalibration:
    """The facilitator records the reference answers agreed (every item) and closes the
    session; participants who did not finish are left out of its results."""
    calibration = QACalibration.objects.select_for_update().get(pk=calibration.pk)
    if calibration.facilitator_id != by.pk:
        raise ValidationError(_("Only the session's facilitator closes it."))
    if calibration.status != QACalibration.Status.OPEN:
        raise ValidationError(_("This calibration session is closed."))
    finished = calibration.reviews.filter(status=QAReview.Status.FINISHED)
    if not finished.exists():
        raise ValidationError(_("Nobody has finished their review yet."))
    reference = _session_review(calibration, by)
    review_answers_save(reference, reviewer=by, answers=answers)
    (reference,) = reviews_finish(
        [reference], reviewer=by, reference=f"qa-calibration-{calibration.pk}"
    )
    calibration.reference = reference
    calibration.status = QACalibration.Status.CLOSED
    calibration.notes = notes.strip()[:4000]
    calibration.closed_at = timezone.now()
    calibration.save(update_fields=["reference", "status", "notes", "closed_at"])
    return calibration
