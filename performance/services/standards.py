"""Writing service standards: every change to a rule creates a new, immutable version."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from performance.models import ServiceStandard, StandardVersion
from performance.tasks import evaluate_standard as evaluate_standard_task


@transaction.atomic
def standard_save(
    *,
    standard: ServiceStandard,
    changed_by: AbstractBaseUser | None = None,
    effective_from: date | None = None,
    rescore: bool = True,
) -> StandardVersion:
    """Save a standard; if its rule differs from the latest version, add a version.

    The first version takes effect from `active_from`; later ones from `effective_from`
    (default: today), so periods already under way keep the rule they started with.
    A new version re-scores, after commit, the periods from its first day to yesterday
    (earlier periods keep the version they were judged with). Returns the current version.
    """
    standard.save()
    latest = standard.versions.order_by("-number").first()
    if latest is not None and latest.rule() == standard.rule():
        return latest
    number = latest.number + 1 if latest else 1
    if latest is None:
        starts = standard.active_from
    else:
        starts = max(effective_from or timezone.localdate(), latest.effective_from)
    version = StandardVersion.objects.create(
        standard=standard,
        number=number,
        effective_from=starts,
        created_by=changed_by,
        **standard.rule(),
    )
    ServiceStandard.objects.filter(pk=standard.pk).update(version=number)
    standard.version = number
    if rescore:
        evaluate_standard_task.delay_on_commit(standard.pk, starts.isoformat())
    return version
