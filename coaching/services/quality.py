"""QA forms: the one score of a review, and the versions reviews keep.

The score is the weighted share of applicable points, 0-100: each answered item that is not
"not applicable" counts its weight as possible, and earns all of it ("yes"), none ("no") or
the answered share of it on a scale (3 of 5 earns 60% of the weight). Bonus items only add
what they earn (nothing to the possible points), and the score stops at 100. A critical item
answered "no" sets the whole review to 0, whatever else it earned. A review with no
applicable item has no score (None), not 0 or 100. Unanswered items count as not applicable
here; a finished review must answer every item (the review form checks it)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coaching.models import QAAnswer, QACalibration, QAForm, QAFormVersion, QAItem, QAReview
from coaching.selectors.quality import form_structure, repeated_misses
from coaching.services.training import training_assign_for_misses
from performance.access import interactions_reviewable_by
from performance.models import Agent, FeedBatch
from performance.services.ingest import QAScoreRefused, interaction_qa_scores_set

YES, NO, NOT_APPLICABLE = "yes", "no", "na"
Answer = str | int | None  # "yes" / "no" / "na" for yes-no items, 0..scale_max for scales


@dataclass(frozen=True)
class ItemRule:
    key: str
    kind: str  # QAItem.Kind
    weight: int
    scale_max: int = 1
    critical: bool = False
    bonus: bool = False
    allows_na: bool = True


@dataclass(frozen=True)
class ReviewScore:
    score: float | None  # None: no applicable item
    earned: float
    possible: float
    critical_failed: bool


class AnswerError(ValueError):
    """An answer the item does not accept; `key` names the item, the message says why."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def _earned_share(rule: ItemRule, answer: Answer) -> float | None:
    """The share of the item's weight an answer earns; None when it does not count."""
    if answer is None or answer == NOT_APPLICABLE:
        if answer == NOT_APPLICABLE and not rule.allows_na:
            raise AnswerError(rule.key, _("This item cannot be answered “not applicable”."))
        return None
    if rule.kind == QAItem.Kind.YES_NO:
        if answer not in (YES, NO):
            raise AnswerError(rule.key, _("Answer yes, no or not applicable."))
        return 1.0 if answer == YES else 0.0
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= rule.scale_max:
        raise AnswerError(
            rule.key, _("Answer a whole number from 0 to %(top)s.") % {"top": rule.scale_max}
        )
    return answer / rule.scale_max


def review_score(rules: Sequence[ItemRule], answers: Mapping[str, Answer]) -> ReviewScore:
    earned = possible = 0.0
    critical_failed = False
    for rule in rules:
        share = _earned_share(rule, answers.get(rule.key))
        if share is None:
            continue
        if rule.critical and share == 0.0:
            critical_failed = True
        earned += rule.weight * share
        if not rule.bonus:
            possible += rule.weight
    if critical_failed:
        return ReviewScore(0.0, earned, possible, True)
    if possible == 0:
        return ReviewScore(None, earned, possible, False)
    return ReviewScore(round(min(100.0, 100 * earned / possible), 2), earned, possible, False)


# --- versions -------------------------------------------------------------------------------


def _digest(structure: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(structure, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def form_version_current(form: QAForm) -> QAFormVersion:
    """The version a review scores on now: the latest, or a new one when the form changed
    since (under the form's row lock, so two reviews never number the same version)."""
    QAForm.objects.select_for_update().filter(pk=form.pk).first()
    structure = form_structure(form)
    digest = _digest(structure)
    latest = form.versions.order_by("-number").first()
    if latest is not None and latest.digest == digest:
        return latest
    return QAFormVersion.objects.create(
        form=form,
        number=(latest.number + 1) if latest else 1,
        structure=structure,
        digest=digest,
    )


def version_rules(version: QAFormVersion) -> list[ItemRule]:
    """The rules a version scores by (what its reviews saw)."""
    return [
        ItemRule(
            key=item["key"],
            kind=item["kind"],
            weight=item["weight"],
            scale_max=item["scale_max"],
            critical=item["critical"],
            bonus=item["bonus"],
            allows_na=item["allows_na"],
        )
        for section in version.structure["sections"]
        for item in section["items"]
    ]


# --- reviews --------------------------------------------------------------------------------


def stored_answer(rule: ItemRule, raw: str) -> Answer:
    """An answer as QAAnswer keeps it (text), read back for scoring."""
    if rule.kind == QAItem.Kind.SCALE and raw not in (NOT_APPLICABLE, ""):
        return int(raw) if raw.isdigit() else raw
    return raw or None


def review_start(*, reviewer, interaction_id: int, form: QAForm) -> QAReview:
    """A draft review of an interaction the reviewer may review, on the form's current
    version (the form must serve the interaction's channel)."""
    interaction = interactions_reviewable_by(reviewer).filter(pk=interaction_id).first()
    if interaction is None:
        raise ValidationError({"interaction": _("You may not review this interaction.")})
    if not form.active:
        raise ValidationError({"form": _("This form is no longer in use.")})
    if form.channel_id and form.channel_id != interaction.channel:
        raise ValidationError(
            {"form": _("This form is for another channel than the interaction's.")}
        )
    return QAReview.objects.create(
        interaction=interaction,
        agent=interaction.agent,
        version=form_version_current(form),
        reviewer=reviewer,
    )


@transaction.atomic
def review_answers_save(
    review: QAReview,
    *,
    reviewer,
    answers: Mapping[str, tuple[Answer, str]],
    comment: str | None = None,
) -> QAReview:
    """Keep a draft's answers (item key -> (answer, comment)) and its score so far. Every
    refused answer is reported against its item, and nothing is kept then."""
    review = QAReview.objects.select_for_update().get(pk=review.pk)
    if review.reviewer_id != reviewer.pk:
        raise ValidationError(_("Only the reviewer who started this review changes it."))
    if review.status != QAReview.Status.DRAFT:
        raise ValidationError(_("This review is finished; it no longer changes."))
    _check_session_open(review)
    rules = {rule.key: rule for rule in version_rules(review.version)}
    errors: dict[str, str] = {}
    for key, (answer, _comment) in answers.items():
        if key not in rules:
            errors[key] = _("This form has no such item.")
            continue
        try:
            _earned_share(rules[key], answer)
        except AnswerError as error:
            errors[key] = error.message
    if errors:
        raise ValidationError(errors)
    kept = {row.key: row for row in review.answers.all()}
    for key, (answer, item_comment) in answers.items():
        row = kept.get(key) or QAAnswer(review=review, key=key)
        row.answer = "" if answer is None else str(answer)
        row.comment = item_comment.strip()
        row.save()
        kept[key] = row
    if comment is not None:
        review.comment = comment.strip()
    review.score = review_score(
        list(rules.values()),
        {key: stored_answer(rules[key], row.answer) for key, row in kept.items()},
    ).score
    review.save(update_fields=["comment", "score", "updated_at"])  # updated_at: auto_now
    return review


@transaction.atomic
def review_finish(
    review: QAReview,
    *,
    reviewer,
    answers: Mapping[str, tuple[Answer, str]] | None = None,
    comment: str | None = None,
) -> QAReview:
    """Finish a draft (keeping `answers` and `comment` first, when given): every item must be
    answered (not applicable counts as an answer) and at least one must apply. The score is
    written on the interaction through performance's audited write path, in this transaction;
    the periods it changes are re-scored once, after commit."""
    if answers or comment is not None:
        review_answers_save(review, reviewer=reviewer, answers=answers or {}, comment=comment)
    return reviews_finish([review], reviewer=reviewer, reference=f"qa-review-{review.pk}")[0]


@transaction.atomic
def reviews_finish(reviews: Sequence[QAReview], *, reviewer, reference: str) -> list[QAReview]:
    """Finish several drafts of one reviewer at once, all or none (see review_finish): their
    scores go in one batch per source, so their periods are re-scored once."""
    locked = list(
        QAReview.objects.select_for_update()
        .select_related("interaction", "version__form")
        .filter(pk__in=[review.pk for review in reviews])
        .order_by("pk")
    )
    for review in locked:
        review.score = _finished_score(review, reviewer=reviewer)
    # Calibration reviews never count towards the agent: their scores are not written.
    scored = [review for review in locked if review.calibration_id is None]
    batches = review_scores_write(scored, by=reviewer, reference=reference) if scored else {}
    now = timezone.now()
    for review in locked:
        review.status = QAReview.Status.FINISHED
        review.finished_at = review.updated_at = now  # bulk_update skips auto_now
        review.batch = batches.get(review.pk)
    QAReview.objects.bulk_update(
        locked, ["status", "score", "finished_at", "batch", "updated_at"], batch_size=500
    )
    for review in scored:
        if review.version.form.training_auto_assign:
            _assign_training_for_misses(review, reviewer=reviewer)
    return locked


def _assign_training_for_misses(review: QAReview, *, reviewer) -> None:
    modules = {m.pk: m for miss in repeated_misses(review) for m in miss.modules}
    if modules:
        agent = Agent.objects.select_related("team", "user").get(pk=review.agent_id)
        training_assign_for_misses(agent=agent, modules=modules.values(), assigned_by=reviewer)


# The interaction field a finished review of each form kind writes its score to.
SCORE_FIELDS = {QAForm.Kind.MONITORING: "qa_score", QAForm.Kind.MYSTERY: "mystery_score"}


def review_scores_write(reviews: Sequence[QAReview], *, by, reference: str) -> dict[int, FeedBatch]:
    """Write the reviews' scores on their interactions through performance's audited write
    path (one batch per source and kind of form); returns each review's batch (by review id);
    ValidationError with the reasons if refused."""
    written: dict[int, FeedBatch] = {}
    for kind, field in SCORE_FIELDS.items():
        of_kind = [review for review in reviews if review.version.form.kind == kind]
        if not of_kind:
            continue
        try:
            batches = interaction_qa_scores_set(
                scores=[(review.interaction, review.score) for review in of_kind],
                by=by,
                reference=reference,
                field=field,
            )
        except QAScoreRefused as refused:
            raise ValidationError(refused.reasons) from None
        written |= {review.pk: batches[review.interaction.source_id] for review in of_kind}
    return written


def _check_session_open(review: QAReview) -> None:
    """A calibration review changes only while its session is open (once the spread is shown,
    scoring is no longer blind)."""
    if review.calibration_id and review.calibration.status != QACalibration.Status.OPEN:
        raise ValidationError(_("This calibration session is closed."))


def _finished_score(review: QAReview, *, reviewer) -> float:
    """The score a draft finishes on; ValidationError (per item when it is theirs) if it
    cannot finish."""
    if review.reviewer_id != reviewer.pk:
        raise ValidationError(_("Only the reviewer who started this review changes it."))
    if review.status != QAReview.Status.DRAFT:
        raise ValidationError(_("This review is finished; it no longer changes."))
    _check_session_open(review)
    rules = version_rules(review.version)
    kept = {key: answer for key, answer in review.answers.values_list("key", "answer") if answer}
    unanswered = {
        rule.key: _("Answer this item to finish.") for rule in rules if rule.key not in kept
    }
    if unanswered:
        raise ValidationError(unanswered)
    result = review_score(rules, {rule.key: stored_answer(rule, kept[rule.key]) for rule in rules})
    if result.score is None:
        raise ValidationError(
            _("No item applies to this interaction: a finished review needs one that does.")
        )
    return result.score


def review_acknowledge(review: QAReview, *, user) -> QAReview:
    """The agent confirms they read a finished review of theirs (once: the first time stays)."""
    if review.agent.user_id != user.pk:
        raise ValidationError(_("Only the reviewed agent acknowledges a review."))
    if review.status != QAReview.Status.FINISHED:
        raise ValidationError(_("Only a finished review is acknowledged."))
    QAReview.objects.filter(pk=review.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    )
    review.refresh_from_db(fields=["acknowledged_at"])
    return review
