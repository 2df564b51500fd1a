"""Reads of quality monitoring: a QA form as it stands (for its preview and its versions),
and the interactions a reviewer may pick."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from coaching.models import QAForm, QAItem
from performance.access import interactions_reviewable_by
from performance.models import Interaction


def form_structure(form: QAForm) -> dict[str, Any]:
    """The form's sections and items as they stand, as a version keeps them."""
    return {
        "name": form.name,
        "sections": [
            {
                "title": section.title,
                "items": [
                    {
                        "key": str(item.pk),
                        "text": item.text,
                        "guidance": item.guidance,
                        "kind": item.kind,
                        "scale_max": item.scale_max if item.kind == QAItem.Kind.SCALE else 1,
                        "weight": item.weight,
                        "critical": item.critical,
                        "bonus": item.bonus,
                        "allows_na": item.allows_na,
                    }
                    for item in section.items.all()
                ],
            }
            for section in form.sections.prefetch_related("items")
        ],
    }


def form_points(structure: dict[str, Any]) -> int:
    """The weight a review can earn when every item applies (bonus items apart)."""
    return sum(
        item["weight"]
        for section in structure["sections"]
        for item in section["items"]
        if not item["bonus"]
    )


def interactions_for_review(
    user: AbstractBaseUser,
    *,
    reference: str = "",
    agent_id: int | None = None,
    channel: str = "",
    day: date | None = None,
) -> QuerySet[Interaction]:
    """What a reviewer may pick, newest first: found by protocolo (the case id) or external
    id (exactly, or by its start), agent, channel and local day (in the reviewer's zone)."""
    found = interactions_reviewable_by(user)
    reference = reference.strip()
    if reference:
        # Starting with it covers being it.
        found = found.filter(
            Q(case_id__istartswith=reference) | Q(external_id__istartswith=reference)
        )
    if agent_id is not None:
        found = found.filter(agent_id=agent_id)
    if channel:
        found = found.filter(channel=channel)
    if day is not None:
        start = timezone.make_aware(datetime.combine(day, time.min))
        end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        found = found.filter(started_at__gte=start, started_at__lt=end)
    return found.order_by("-started_at", "-pk")
