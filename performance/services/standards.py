"""Writing service standards: every change to a rule creates a new, immutable version, and a
change that would corrupt results already judged is refused (see `standard_validate`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from performance.models import (
    MEANING_FIELDS,
    Evaluation,
    ServiceStandard,
    StandardVersion,
)
from performance.models.standards import validate_start_day
from performance.tasks import evaluate_standard as evaluate_standard_task

FIXED_ONCE_EVALUATED = gettext_lazy(
    "This standard already has evaluations: changing its %(field)s would mix two meanings "
    "under one standard. Clone the standard instead (the “Clone as a new standard” button), "
    "and end this one."
)


@dataclass(frozen=True)
class RescoreSpan:
    """The days a save re-scores, both inclusive, and the field whose change starts them."""

    first: date
    last: date
    field: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _rule_starts(
    standard: ServiceStandard, latest: StandardVersion | None, effective_from: date | None
) -> date | None:
    """When the rule in `standard` takes effect as a new version; None: the rule is unchanged."""
    if latest is not None and latest.rule() == standard.rule():
        return None
    if latest is None:
        return standard.active_from
    return max(effective_from or timezone.localdate(), latest.effective_from)


def standard_rescore_span(
    *,
    standard: ServiceStandard,
    before: ServiceStandard | None,
    latest: StandardVersion | None,
    effective_from: date | None,
    today: date,
) -> RescoreSpan | None:
    """The complete days (up to yesterday) whose evaluations saving `standard` over `before`
    (its stored row; None when new) changes: from a new version's first day, and the days a
    new `active_from` or `active_until` adds or removes. None when nothing needs re-scoring."""
    yesterday = today - timedelta(days=1)
    spans: list[RescoreSpan] = []
    starts = _rule_starts(standard, latest, effective_from)
    if starts is not None:
        last = min(standard.active_until or yesterday, yesterday) if before is None else yesterday
        spans.append(
            RescoreSpan(starts, last, "active_from" if before is None else "effective_from")
        )
    if before is not None:
        old, new = before.active_from, standard.active_from
        if old != new:
            spans.append(
                RescoreSpan(min(old, new), max(old, new) - timedelta(days=1), "active_from")
            )
        old, new = before.active_until, standard.active_until
        if old != new:
            first = min(old or yesterday, new or yesterday) + timedelta(days=1)
            spans.append(
                RescoreSpan(first, max(old or yesterday, new or yesterday), "active_until")
            )
    spans = [
        RescoreSpan(span.first, min(span.last, yesterday), span.field)
        for span in spans
        if span.first <= min(span.last, yesterday)
    ]
    if not spans:
        return None
    earliest = min(spans, key=lambda span: span.first)
    return RescoreSpan(earliest.first, max(span.last for span in spans), earliest.field)


def _changed_meaning(
    standard: ServiceStandard, before: ServiceStandard, team_ids: Collection[int] | None
) -> list[str]:
    changed = [
        name
        for name in MEANING_FIELDS
        if name != "teams" and getattr(standard, name) != getattr(before, name)
    ]
    if team_ids is not None and set(team_ids) != set(before.teams.values_list("pk", flat=True)):
        changed.append("teams")
    return changed


def standard_validate(
    *,
    standard: ServiceStandard,
    team_ids: Collection[int] | None = None,
    effective_from: date | None = None,
) -> None:
    """Refuse, with a message per field, a save that would corrupt results already judged:
    a new metric, period, channel or teams (`team_ids`; None: unchanged) on a standard with
    evaluations, a rule change dated outside the supported days, or a save that would
    re-score more than STANDARD_RESCORE_MAX_DAYS days. Call after `full_clean`; the admin
    form, the API and `standard_save` all do."""
    errors: dict[str, list[str]] = {}
    before = latest = None
    if standard.pk is not None:
        before = ServiceStandard.objects.get(pk=standard.pk)
        latest = before.versions.order_by("-number").first()
        if Evaluation.objects.filter(standard_id=standard.pk).exists():
            for name in _changed_meaning(standard, before, team_ids):
                label = ServiceStandard._meta.get_field(name).verbose_name
                errors[name] = [str(FIXED_ONCE_EVALUATED % {"field": label})]
    if effective_from is not None:
        try:
            validate_start_day(effective_from)
        except ValidationError as error:
            errors["effective_from"] = error.messages
    if not errors:
        today = timezone.localdate()
        span = standard_rescore_span(
            standard=standard,
            before=before,
            latest=latest,
            effective_from=effective_from,
            today=today,
        )
        limit = settings.STANDARD_RESCORE_MAX_DAYS
        if span is not None and span.days > limit:
            errors[span.field] = [_too_long(span, limit=limit, today=today)]
    if errors:
        raise ValidationError(errors)


def _too_long(span: RescoreSpan, *, limit: int, today: date) -> str:
    return gettext(
        "Saving this would re-score %(days)s days (%(first)s to %(last)s); one save re-scores "
        "at most %(limit)s days (STANDARD_RESCORE_MAX_DAYS). Choose a day on or after "
        "%(earliest)s; older periods can be re-scored with “manage.py evaluate --since … "
        "--until …” in pieces of up to %(limit)s days."
    ) % {
        "days": span.days,
        "first": date_format(span.first, "SHORT_DATE_FORMAT"),
        "last": date_format(span.last, "SHORT_DATE_FORMAT"),
        "limit": limit,
        "earliest": date_format(today - timedelta(days=limit), "SHORT_DATE_FORMAT"),
    }


@transaction.atomic
def standard_save(
    *,
    standard: ServiceStandard,
    changed_by: AbstractBaseUser | None = None,
    effective_from: date | None = None,
    rescore: bool = True,
    team_ids: Collection[int] | None = None,
) -> StandardVersion:
    """Save a standard; if its rule differs from the latest version, add a version.

    The first version takes effect from `active_from`; later ones from `effective_from`
    (default: today), so periods already under way keep the rule they started with.
    After commit, re-scores the days the save changes (see `standard_rescore_span`): a new
    version's from its first day to yesterday (earlier periods keep the version they were
    judged with), and those new active dates add or remove. `team_ids` (None: unchanged)
    are set here too. With `rescore`, the save is validated by `standard_validate` first;
    without (the demo and benchmarks, which evaluate everything themselves) it is not
    capped. Returns the current version.
    """
    if rescore:
        standard_validate(standard=standard, team_ids=team_ids, effective_from=effective_from)
    before = ServiceStandard.objects.get(pk=standard.pk) if standard.pk is not None else None
    latest = before.versions.order_by("-number").first() if before is not None else None
    span = standard_rescore_span(
        standard=standard,
        before=before,
        latest=latest,
        effective_from=effective_from,
        today=timezone.localdate(),
    )
    starts = _rule_starts(standard, latest, effective_from)
    standard.save()
    if team_ids is not None:
        standard.teams.set(team_ids)
    if rescore and span is not None:
        evaluate_standard_task.delay_on_commit(
            standard.pk, span.first.isoformat(), span.last.isoformat()
        )
    if starts is None:
        return latest
    number = latest.number + 1 if latest else 1
    version = StandardVersion.objects.create(
        standard=standard,
        number=number,
        effective_from=starts,
        created_by=changed_by,
        **standard.rule(),
    )
    ServiceStandard.objects.filter(pk=standard.pk).update(version=number)
    standard.version = number
    return version


@transaction.atomic
def standard_end(
    *, standard: ServiceStandard, last_day: date, changed_by: AbstractBaseUser | None = None
) -> None:
    """End `standard` on `last_day` (its new `active_until`), validated and re-scored like
    any other save: the days it no longer covers lose their evaluations on the re-score."""
    standard.active_until = last_day
    standard.full_clean(exclude=["teams"])
    standard_save(standard=standard, changed_by=changed_by)


def standard_end_validate(*, standard_id: int, last_day: date) -> None:
    """Raise ValidationError (its messages) if `standard_end` would refuse `last_day`."""
    standard = ServiceStandard.objects.get(pk=standard_id)
    standard.active_until = last_day
    standard.full_clean(exclude=["teams"])
    standard_validate(standard=standard)
