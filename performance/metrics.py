"""The metric catalog: how each KPI is computed over an agent's interactions in a period.

Every metric is a ratio of two database aggregates, `numerator / denominator * scale`, so one
grouped query computes it for every agent and period at once, and the sample size (the rows
that carry the metric's input) comes from the same query. Formulas follow DESIGN.md.

Aggregates are built for a scope (a channel, or every row), so standards on different
channels share one grouped query: each aggregate filters its own rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import (
    Aggregate,
    Case,
    Count,
    FloatField,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class Ratio:
    """A metric's aggregates for one standard: value = numerator / denominator * scale, or
    the numerator itself when there is no denominator (volume)."""

    numerator: Aggregate
    denominator: Aggregate | None
    sample: Aggregate
    scale: float = 1.0

    def value(self, numerator: float | None, denominator: float | None) -> float | None:
        if self.denominator is None:
            return float(numerator or 0)
        if not denominator:
            return None
        return float(numerator or 0) * self.scale / float(denominator)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str | Promise
    unit: str
    direction: Direction
    input: str
    sample_label: str | Promise
    # Built per standard because some metrics (sla) depend on the standard's threshold;
    # called with the threshold and the rows in scope (Q() for all).
    aggregates: Callable[[int | None, Q], Ratio]
    needs_threshold: bool = False

    def ratio(self, threshold: int | None, *, channel: str = "") -> Ratio:
        """The aggregates over one channel's interactions ("" for all channels)."""
        return self.aggregates(threshold, Q(channel=channel) if channel else Q())

    def beats(self, value: float, target: float) -> bool:
        """Whether `value` meets `target` in this metric's direction (ties meet)."""
        if self.direction is Direction.HIGHER:
            return value >= target
        return value <= target

    def is_beyond(self, stretch: float, target: float) -> bool:
        """Whether a stretch target lies beyond the target in this metric's direction."""
        if self.direction is Direction.HIGHER:
            return stretch > target
        return stretch < target


def _count_where(condition: Q) -> Aggregate:
    return Count("id", filter=condition) if condition else Count("id")


def _mean(field: str, *, only: Q | None = None) -> Callable[[int | None, Q], Ratio]:
    def build(threshold: int | None, scope: Q) -> Ratio:
        carried = Q(**{f"{field}__isnull": False}) & (only or Q()) & scope
        return Ratio(
            numerator=Sum(Cast(field, FloatField()), filter=carried),
            denominator=_count_where(carried),
            sample=_count_where(carried),
        )

    return build


def _percent_of(field: str, success: Q) -> Callable[[int | None, Q], Ratio]:
    def build(threshold: int | None, scope: Q) -> Ratio:
        carried = Q(**{f"{field}__isnull": False}) & scope
        return Ratio(
            numerator=_count_where(carried & success),
            denominator=_count_where(carried),
            sample=_count_where(carried),
            scale=100.0,
        )

    return build


def _rate(flag: str) -> Callable[[int | None, Q], Ratio]:
    def build(threshold: int | None, scope: Q) -> Ratio:
        return Ratio(
            numerator=_count_where(Q(**{flag: True}) & scope),
            denominator=_count_where(scope),
            sample=_count_where(scope),
            scale=100.0,
        )

    return build


def _sla(threshold: int | None, scope: Q) -> Ratio:
    carried = Q(first_response_seconds__isnull=False) & scope
    return Ratio(
        numerator=_count_where(carried & Q(first_response_seconds__lte=threshold or 0)),
        denominator=_count_where(carried),
        sample=_count_where(carried),
        scale=100.0,
    )


def _nps(threshold: int | None, scope: Q) -> Ratio:
    carried = Q(nps__isnull=False) & scope
    promoters = Sum(_case_one(Q(nps__gte=9)) - _case_one(Q(nps__lte=6)), filter=carried)
    return Ratio(
        numerator=promoters,
        denominator=_count_where(carried),
        sample=_count_where(carried),
        scale=100.0,
    )


def _case_one(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _contacts_per_case(threshold: int | None, scope: Q) -> Ratio:
    resolved_cases = Count(
        "case_id", filter=Q(resolved=True) & ~Q(case_id="") & scope, distinct=True
    )
    return Ratio(numerator=_count_where(scope), denominator=resolved_cases, sample=resolved_cases)


def _volume(threshold: int | None, scope: Q) -> Ratio:
    return Ratio(numerator=_count_where(scope), denominator=None, sample=_count_where(scope))


METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in [
        Metric(
            "aht",
            _("Average handle time"),
            "s",
            Direction.LOWER,
            "handle_seconds",
            _("interactions with a handle time (abandoned excluded)"),
            _mean("handle_seconds", only=~Q(abandoned=True)),
        ),
        Metric(
            "frt",
            _("First response time"),
            "s",
            Direction.LOWER,
            "first_response_seconds",
            _("interactions with a first response time"),
            _mean("first_response_seconds"),
        ),
        Metric(
            "asa",
            _("Average speed of answer"),
            "s",
            Direction.LOWER,
            "wait_seconds",
            _("interactions with a wait time"),
            _mean("wait_seconds"),
        ),
        Metric(
            "sla",
            _("Service level"),
            "%",
            Direction.HIGHER,
            "first_response_seconds",
            _("interactions with a first response time"),
            _sla,
            needs_threshold=True,
        ),
        Metric(
            "fcr",
            _("First-contact resolution"),
            "%",
            Direction.HIGHER,
            "first_contact_resolution",
            _("interactions where FCR is known"),
            _percent_of("first_contact_resolution", Q(first_contact_resolution=True)),
        ),
        Metric(
            "csat",
            _("Customer satisfaction"),
            "%",
            Direction.HIGHER,
            "csat",
            _("CSAT responses"),
            _percent_of("csat", Q(csat__gte=4)),
        ),
        Metric(
            "nps", _("Net promoter score"), "pts", Direction.HIGHER, "nps", _("NPS responses"), _nps
        ),
        Metric(
            "ces",
            _("Customer effort score"),
            "",
            Direction.LOWER,
            "ces",
            _("CES responses"),
            _mean("ces"),
        ),
        Metric(
            "qa",
            _("Quality score"),
            "",
            Direction.HIGHER,
            "qa_score",
            _("QA evaluations"),
            _mean("qa_score"),
        ),
        Metric(
            "contacts_per_case",
            _("Contacts per resolved case"),
            "",
            Direction.LOWER,
            "case_id",
            _("resolved cases"),
            _contacts_per_case,
        ),
        Metric(
            "transfer_rate",
            _("Transfer rate"),
            "%",
            Direction.LOWER,
            "transferred",
            _("interactions"),
            _rate("transferred"),
        ),
        Metric(
            "escalation_rate",
            _("Escalation rate"),
            "%",
            Direction.LOWER,
            "escalated",
            _("interactions"),
            _rate("escalated"),
        ),
        Metric(
            "abandonment_rate",
            _("Abandonment rate"),
            "%",
            Direction.LOWER,
            "abandoned",
            _("interactions"),
            _rate("abandoned"),
        ),
        Metric(
            "volume",
            _("Volume"),
            "contacts",
            Direction.HIGHER,
            "external_id",
            _("interactions"),
            _volume,
        ),
    ]
}

METRIC_CHOICES = [(metric.key, metric.label) for metric in METRICS.values()]
