"""The metric catalog: how each KPI is computed over an agent's interactions in a period.

Every metric is a ratio of two database aggregates, `numerator / denominator * scale`, so one
grouped query computes it for every agent and period at once, and the sample size (the rows
that carry the metric's input) comes from the same query. Formulas follow DESIGN.md.

Aggregates are built for a scope (a channel, or every row), so standards on different
channels share one grouped query: each aggregate filters its own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
    the numerator itself when there is no denominator (volume). `rows` picks the period's
    facts that lie behind the number, the ones its sample counts."""

    numerator: Aggregate
    denominator: Aggregate | None
    sample: Aggregate
    rows: Q
    scale: float = 1.0

    def value(self, numerator: float | None, denominator: float | None) -> float | None:
        if self.denominator is None:
            return float(numerator or 0)
        if not denominator:
            return None
        return float(numerator or 0) * self.scale / float(denominator)


@dataclass(frozen=True)
class Column:
    """A column of the rows behind a number: a fact field, and how a cell shows it
    (duration, number, flag, within_threshold, satisfied, nps_group or plain); a flag with
    `good_when` is toned good or bad."""

    label: str
    field: str
    shows: str = "plain"
    good_when: bool | None = None

    @property
    def numeric(self) -> bool:
        return self.shows in ("duration", "number")


def _counted_once(fact: object) -> object:
    return fact.id


@dataclass(frozen=True)
class Metric:
    """A KPI: its formula (`aggregates`), how it is explained, and the rows behind it."""

    key: str
    label: str | Promise
    unit: str
    direction: Direction
    sample_label: str | Promise
    # Built per standard because some metrics (sla) depend on the standard's threshold;
    # called with the threshold and the rows in scope (Q() for all).
    aggregates: Callable[[int | None, Q], Ratio]
    explanation: str
    columns: tuple[Column, ...]
    # The values a target or stretch target may take (inclusive): what the formula can yield,
    # or a sane maximum where it has none (durations, counts).
    bounds: tuple[float, float]
    needs_threshold: bool = False
    # What one row behind the number adds to the sample: itself, or (contacts per case) its
    # resolved case, counted once however many contacts it took; None: nothing.
    sample_key: Callable[[object], object | None] = _counted_once

    def ratio(self, threshold: int | None, *, channel: str = "") -> Ratio:
        """The aggregates over one channel's interactions ("" for all channels)."""
        return self.aggregates(threshold, Q(channel=channel) if channel else Q())

    def sample_of(self, facts: Iterable[object]) -> int:
        """The sample size the rows behind a number make (the engine counts it in SQL)."""
        return len({key for key in map(self.sample_key, facts) if key is not None})

    def within_bounds(self, value: float) -> bool:
        """Whether a target (or stretch target) is a value this metric can take; never NaN."""
        low, high = self.bounds
        return low <= value <= high

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
            rows=carried,
        )

    return build


def _percent_of(field: str, success: Q) -> Callable[[int | None, Q], Ratio]:
    def build(threshold: int | None, scope: Q) -> Ratio:
        carried = Q(**{f"{field}__isnull": False}) & scope
        return Ratio(
            numerator=_count_where(carried & success),
            denominator=_count_where(carried),
            sample=_count_where(carried),
            rows=carried,
            scale=100.0,
        )

    return build


def _rate(flag: str) -> Callable[[int | None, Q], Ratio]:
    def build(threshold: int | None, scope: Q) -> Ratio:
        return Ratio(
            numerator=_count_where(Q(**{flag: True}) & scope),
            denominator=_count_where(scope),
            sample=_count_where(scope),
            rows=scope,
            scale=100.0,
        )

    return build


def _sla(threshold: int | None, scope: Q) -> Ratio:
    carried = Q(first_response_seconds__isnull=False) & scope
    return Ratio(
        numerator=_count_where(carried & Q(first_response_seconds__lte=threshold or 0)),
        denominator=_count_where(carried),
        sample=_count_where(carried),
        rows=carried,
        scale=100.0,
    )


def _nps(threshold: int | None, scope: Q) -> Ratio:
    carried = Q(nps__isnull=False) & scope
    promoters = Sum(_case_one(Q(nps__gte=9)) - _case_one(Q(nps__lte=6)), filter=carried)
    return Ratio(
        numerator=promoters,
        denominator=_count_where(carried),
        sample=_count_where(carried),
        rows=carried,
        scale=100.0,
    )


def _case_one(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _contacts_per_case(threshold: int | None, scope: Q) -> Ratio:
    resolved_cases = Count(
        "case_id", filter=Q(resolved=True) & ~Q(case_id="") & scope, distinct=True
    )
    # Every contact is behind the number (the numerator); the sample is their resolved cases.
    return Ratio(
        numerator=_count_where(scope),
        denominator=resolved_cases,
        sample=resolved_cases,
        rows=scope,
    )


def _resolved_case(fact: object) -> str | None:
    return fact.case_id if fact.resolved and fact.case_id else None


def _volume(threshold: int | None, scope: Q) -> Ratio:
    return Ratio(
        numerator=_count_where(scope), denominator=None, sample=_count_where(scope), rows=scope
    )


# The longest duration a standard may name (targets of time metrics, sla thresholds): a week,
# beyond any e-mail first-response goal.
MAX_SECONDS = 7 * 24 * 60 * 60
# The most contacts a volume target or contacts-per-case target may ask for.
MAX_COUNT = 1_000_000
SECONDS = (0.0, float(MAX_SECONDS))
PERCENT = (0.0, 100.0)

HANDLE = Column(_("Handle time"), "handle_seconds", "duration")
FIRST_RESPONSE = Column(_("First response"), "first_response_seconds", "duration")
CASE = Column(_("Case"), "case_id")

METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in [
        Metric(
            "aht",
            _("Average handle time"),
            "s",
            Direction.LOWER,
            _("interactions with a handle time (abandoned excluded)"),
            _mean("handle_seconds", only=~Q(abandoned=True)),
            bounds=SECONDS,
            explanation=_(
                "The mean handle time of these interactions (abandoned contacts are left out)."
            ),
            columns=(HANDLE,),
        ),
        Metric(
            "frt",
            _("First response time"),
            "s",
            Direction.LOWER,
            _("interactions with a first response time"),
            _mean("first_response_seconds"),
            bounds=SECONDS,
            explanation=_("The mean first response time of these interactions."),
            columns=(FIRST_RESPONSE,),
        ),
        Metric(
            "asa",
            _("Average speed of answer"),
            "s",
            Direction.LOWER,
            _("interactions with a wait time"),
            _mean("wait_seconds"),
            bounds=SECONDS,
            explanation=_(
                "The mean time these contacts waited in the queue before being answered."
            ),
            columns=(Column(_("Wait"), "wait_seconds", "duration"),),
        ),
        Metric(
            "sla",
            _("Service level"),
            "%",
            Direction.HIGHER,
            _("interactions with a first response time"),
            _sla,
            needs_threshold=True,
            bounds=PERCENT,
            explanation=_("The share of these interactions answered within the threshold."),
            columns=(
                FIRST_RESPONSE,
                Column(_("Within threshold"), "first_response_seconds", "within_threshold"),
            ),
        ),
        Metric(
            "fcr",
            _("First-contact resolution"),
            "%",
            Direction.HIGHER,
            _("interactions where FCR is known"),
            _percent_of("first_contact_resolution", Q(first_contact_resolution=True)),
            bounds=PERCENT,
            explanation=_("The share of these interactions resolved on the first contact."),
            columns=(
                CASE,
                Column(
                    _("Resolved on first contact"),
                    "first_contact_resolution",
                    "flag",
                    good_when=True,
                ),
            ),
        ),
        Metric(
            "csat",
            _("Customer satisfaction"),
            "%",
            Direction.HIGHER,
            _("CSAT responses"),
            _percent_of("csat", Q(csat__gte=4)),
            bounds=PERCENT,
            explanation=_("The share of these survey responses that are 4 or 5."),
            columns=(
                Column(_("CSAT (1-5)"), "csat", "number"),
                Column(_("Satisfied (4-5)"), "csat", "satisfied"),
            ),
        ),
        Metric(
            "nps",
            _("Net promoter score"),
            "pts",
            Direction.HIGHER,
            _("NPS responses"),
            _nps,
            bounds=(-100.0, 100.0),
            explanation=_("The share of promoters (9-10) minus the share of detractors (0-6)."),
            columns=(
                Column(_("NPS (0-10)"), "nps", "number"),
                Column(_("Group"), "nps", "nps_group"),
            ),
        ),
        Metric(
            "ces",
            _("Customer effort score"),
            "",
            Direction.LOWER,
            _("CES responses"),
            _mean("ces"),
            bounds=(1.0, 7.0),
            explanation=_("The mean customer effort score of these responses (lower is better)."),
            columns=(Column(_("CES (1-7)"), "ces", "number"),),
        ),
        Metric(
            "qa",
            _("Quality score"),
            "",
            Direction.HIGHER,
            _("QA evaluations"),
            _mean("qa_score"),
            bounds=PERCENT,
            explanation=_(
                "The mean quality score of these evaluations. Where an interaction was reviewed "
                "in Atendo, the review's score counts; the feed's own score is shown beside it."
            ),
            columns=(
                Column(_("QA score"), "qa_score", "number"),
                Column(_("Reviewed in Atendo"), "qa_reviewed", "flag"),
                Column(_("Feed's QA score"), "feed_qa_score", "number"),
            ),
        ),
        Metric(
            "mystery",
            _("Mystery-shopper score"),
            "",
            Direction.HIGHER,
            _("mystery-shopper evaluations"),
            _mean("mystery_score"),
            bounds=PERCENT,
            explanation=_(
                "The mean mystery-shopper score of these contacts, from the shoppers' files or "
                "reviews in Atendo on a mystery-shopping form (apart from quality monitoring)."
            ),
            columns=(Column(_("Mystery-shopper score"), "mystery_score", "number"),),
        ),
        Metric(
            "contacts_per_case",
            _("Contacts per resolved case"),
            "",
            Direction.LOWER,
            _("resolved cases"),
            _contacts_per_case,
            bounds=(1.0, float(MAX_COUNT)),
            explanation=_("All interactions divided by the number of distinct resolved cases."),
            columns=(CASE, Column(_("Resolved"), "resolved", "flag")),
            sample_key=_resolved_case,
        ),
        Metric(
            "transfer_rate",
            _("Transfer rate"),
            "%",
            Direction.LOWER,
            _("interactions"),
            _rate("transferred"),
            bounds=PERCENT,
            explanation=_("The share of these interactions that were transferred."),
            columns=(Column(_("Transferred"), "transferred", "flag", good_when=False),),
        ),
        Metric(
            "escalation_rate",
            _("Escalation rate"),
            "%",
            Direction.LOWER,
            _("interactions"),
            _rate("escalated"),
            bounds=PERCENT,
            explanation=_("The share of these interactions that were escalated."),
            columns=(Column(_("Escalated"), "escalated", "flag", good_when=False),),
        ),
        Metric(
            "abandonment_rate",
            _("Abandonment rate"),
            "%",
            Direction.LOWER,
            _("interactions"),
            _rate("abandoned"),
            bounds=PERCENT,
            explanation=_("The share of these interactions that were abandoned."),
            columns=(Column(_("Abandoned"), "abandoned", "flag", good_when=False),),
        ),
        Metric(
            "volume",
            _("Volume"),
            "contacts",
            Direction.HIGHER,
            _("interactions"),
            _volume,
            bounds=(0.0, float(MAX_COUNT)),
            explanation=_("The number of these interactions."),
            columns=(HANDLE,),
        ),
    ]
}

METRIC_CHOICES = [(metric.key, metric.label) for metric in METRICS.values()]
