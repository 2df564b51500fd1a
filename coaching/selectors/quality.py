"""Reads of quality monitoring: a QA form as it stands, for its preview and its versions."""

from __future__ import annotations

from typing import Any

from coaching.models import QAForm, QAItem


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
