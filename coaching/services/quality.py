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

from django.db import transaction

from coaching.models import QAForm, QAFormVersion, QAItem
from coaching.selectors.quality import form_structure

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
    """An answer the item does not accept (the review form turns it into a field error)."""


def _earned_share(rule: ItemRule, answer: Answer) -> float | None:
    """The share of the item's weight an answer earns; None when it does not count."""
    if answer is None or answer == NOT_APPLICABLE:
        if answer == NOT_APPLICABLE and not rule.allows_na:
            raise AnswerError(f"{rule.key}: this item cannot be answered N/A")
        return None
    if rule.kind == QAItem.Kind.YES_NO:
        if answer not in (YES, NO):
            raise AnswerError(f"{rule.key}: answer yes, no or N/A")
        return 1.0 if answer == YES else 0.0
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= rule.scale_max:
        raise AnswerError(f"{rule.key}: answer a whole number from 0 to {rule.scale_max}")
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
