"""Disputes of QA reviews: the agent contests items of a finished review of theirs within the
form's window (from the review, then from each decision) with a required comment, up to the
form's rounds; another reviewer of the team (a quality analyst or the team's supervisor, never
the one who wrote the review) or an admin decides: accepting changes the contested answers, so
the score is written again through the audited path and its periods re-scored; rejecting keeps
the score and says why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coaching.models import QAAnswer, QADispute, QAReview
from coaching.selectors.quality import may_decide_dispute
from coaching.services.quality import (
    Answer,
    AnswerError,
    _earned_share,
    review_score,
    review_scores_write,
    stored_answer,
    version_rules,
)
from performance.models import Team
from performance.services.notifications import Notice, notices_send

COMMENT_MAX_LENGTH = 4000


def dispute_deadline(review: QAReview) -> datetime | None:
    """Until when the agent may contest the review now; None when they may not (not
    finished, disputes off, rounds used up, or one is open)."""
    form = review.version.form
    if review.status != QAReview.Status.FINISHED or review.calibration_id or not form.dispute_days:
        return None
    disputes = list(review.disputes.order_by("round"))
    if len(disputes) >= form.dispute_rounds:
        return None
    if disputes and disputes[-1].status == QADispute.Status.OPEN:
        return None
    since = disputes[-1].decided_at if disputes else review.finished_at
    return since + timedelta(days=form.dispute_days)


@transaction.atomic
def dispute_open(
    review: QAReview, *, user, items: Sequence[str], comment: str, now: datetime | None = None
) -> QADispute:
    review = (
        QAReview.objects.select_for_update()
        .select_related("version__form", "agent")
        .get(pk=review.pk)
    )
    if review.agent.user_id != user.pk:
        raise ValidationError(_("Only the reviewed agent contests a review."))
    deadline = dispute_deadline(review)
    if deadline is None or (now or timezone.now()) > deadline:
        raise ValidationError(_("This review can no longer be contested."))
    keys = {rule.key for rule in version_rules(review.version)}
    errors = {}
    chosen = list(dict.fromkeys(items))
    if not chosen:
        errors["items"] = _("Choose the items you contest.")
    elif not set(chosen) <= keys:
        errors["items"] = _("This form has no such item.")
    comment = comment.strip()[:COMMENT_MAX_LENGTH]
    if not comment:
        errors["comment"] = _("Say why you contest these items.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            dispute = QADispute.objects.create(
                review=review,
                round=review.disputes.count() + 1,
                items=chosen,
                comment=comment,
                opened_by=user,
            )
    except IntegrityError:  # opened twice at once
        raise ValidationError(_("This review can no longer be contested.")) from None
    _tell_deciders(dispute)
    return dispute


@transaction.atomic
def dispute_accept(
    dispute: QADispute,
    *,
    user,
    answers: Mapping[str, tuple[Answer, str]],
    reason: str = "",
) -> QADispute:
    """Accept: the contested items get the decider's answers (at least one must change), the
    review's score is recomputed and written again."""
    dispute, review = _locked_open(dispute, user=user)
    rules = {rule.key: rule for rule in version_rules(review.version)}
    kept = {row.key: row for row in review.answers.all()}
    errors: dict[str, str] = {}
    changes: dict[str, list[str]] = {}
    for key, (answer, _comment) in answers.items():
        if key not in dispute.items:
            errors[key] = _("This item is not contested.")
            continue
        try:
            if answer is None:
                raise AnswerError(key, _("Answer this item to finish."))
            _earned_share(rules[key], answer)
        except AnswerError as error:
            errors[key] = error.message
            continue
        before = kept[key].answer if key in kept else ""
        after = str(answer)
        if after != before:
            changes[key] = [before, after]
    if errors:
        raise ValidationError(errors)
    if not changes:
        raise ValidationError(
            _("Change at least one contested answer to accept; otherwise reject with a reason.")
        )
    for key, (answer, item_comment) in answers.items():
        row = kept.get(key) or QAAnswer(review=review, key=key)
        row.answer = str(answer)
        if item_comment.strip():
            row.comment = item_comment.strip()[:COMMENT_MAX_LENGTH]
        row.save()
        kept[key] = row
    score_before = review.score
    review.score = review_score(
        list(rules.values()),
        {key: stored_answer(rules[key], row.answer) for key, row in kept.items()},
    ).score
    batches = review_scores_write(
        [review], by=user, reference=f"qa-review-{review.pk}-dispute-{dispute.round}"
    )
    review.batch = batches[review.pk]
    review.save(update_fields=["score", "batch", "updated_at"])
    return _decide(
        dispute,
        user=user,
        status=QADispute.Status.ACCEPTED,
        reason=reason,
        changes=changes,
        scores=(score_before, review.score),
    )


@transaction.atomic
def dispute_reject(dispute: QADispute, *, user, reason: str) -> QADispute:
    dispute, review = _locked_open(dispute, user=user)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the review stands.")})
    return _decide(
        dispute,
        user=user,
        status=QADispute.Status.REJECTED,
        reason=reason,
        changes={},
        scores=(review.score, review.score),
    )


def _locked_open(dispute: QADispute, *, user) -> tuple[QADispute, QAReview]:
    dispute = (
        QADispute.objects.select_for_update(of=("self",))
        .select_related("review__version__form", "review__agent", "review__interaction")
        .get(pk=dispute.pk)
    )
    review = dispute.review
    if not may_decide_dispute(user, review):
        raise ValidationError(_("You may not decide this dispute."))
    if dispute.status != QADispute.Status.OPEN:
        raise ValidationError(_("This dispute is decided already."))
    return dispute, review


def _decide(
    dispute: QADispute,
    *,
    user,
    status: str,
    reason: str,
    changes: dict[str, list[str]],
    scores: tuple[float | None, float | None],
) -> QADispute:
    dispute.status = status
    dispute.decided_by = user
    dispute.decided_at = timezone.now()
    dispute.reason = reason.strip()[:COMMENT_MAX_LENGTH]
    dispute.changes = changes
    dispute.score_before, dispute.score_after = scores
    dispute.save()
    review = dispute.review
    accepted = status == QADispute.Status.ACCEPTED
    transaction.on_commit(
        lambda: notices_send(
            [
                Notice(
                    user_id=review.agent.user_id,
                    key=f"qa-dispute:{dispute.pk}:decided",
                    kind="coaching",
                    message=lambda: (
                        (_ACCEPTED if accepted else _REJECTED) % {"form": review.version.form.name}
                    ),
                    url=reverse("coaching:review", args=[review.pk]),
                )
            ]
        )
    )
    return dispute


_ACCEPTED = gettext_lazy("Your dispute on a %(form)s review was accepted: its score changed.")
_REJECTED = gettext_lazy("Your dispute on a %(form)s review was rejected: see why.")


def _tell_deciders(dispute: QADispute) -> None:
    """The team's supervisors and quality analysts, but the review's own reviewer."""
    review = dispute.review
    team = Team.objects.filter(pk=review.agent.team_id).first()
    if team is None:
        return
    user_ids = set(team.leads.values_list("pk", flat=True)) | set(
        team.quality_analysts.values_list("pk", flat=True)
    )
    user_ids.discard(review.reviewer_id)
    name = review.agent.display_name
    transaction.on_commit(
        lambda: notices_send(
            [
                Notice(
                    user_id=user_id,
                    key=f"qa-dispute:{dispute.pk}:opened",
                    kind="coaching",
                    message=lambda: _("%(agent)s contests a quality review.") % {"agent": name},
                    url=reverse("coaching:review", args=[review.pk]),
                )
                for user_id in sorted(user_ids)
            ]
        )
    )
