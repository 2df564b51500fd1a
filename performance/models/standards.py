"""Service standards, their immutable rule versions, and the evaluations judged with them."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from performance.metrics import MAX_SECONDS, METRIC_CHOICES, METRICS, Metric
from performance.models.organisation import Agent, Team
from performance.periods import EARLIEST_DAY, LATEST_DAY, PERIOD_CHOICES

# Sane maxima of a rule's whole numbers: far beyond any real standard, far below what
# would overflow a column or a points total.
MAX_MIN_SAMPLE = 100_000
MAX_POINTS = 10_000
MAX_COACHING_WINDOW = 52
# How far ahead a standard (or a rule change) may be dated: a year, for planning.
DAYS_AHEAD = 366


def latest_start_day() -> date:
    """The last day a standard may start or a rule change take effect: a year from today."""
    return timezone.localdate() + timedelta(days=DAYS_AHEAD)


def validate_supported_day(day: date) -> None:
    """A day within the years Atendo keeps periods for (periods.EARLIEST_DAY..LATEST_DAY)."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(
            _("%(day)s is outside the supported days %(first)s to %(last)s."),
            code="day_out_of_range",
            params={
                "day": date_format(day, "SHORT_DATE_FORMAT"),
                "first": date_format(EARLIEST_DAY, "SHORT_DATE_FORMAT"),
                "last": date_format(LATEST_DAY, "SHORT_DATE_FORMAT"),
            },
        )


def validate_start_day(day: date) -> None:
    """A day a standard may start on, or a rule change take effect from: supported and no
    more than a year ahead."""
    validate_supported_day(day)
    latest = latest_start_day()
    if day > latest:
        raise ValidationError(
            _("%(day)s is more than a year ahead: choose a day up to %(latest)s."),
            code="day_too_far_ahead",
            params={
                "day": date_format(day, "SHORT_DATE_FORMAT"),
                "latest": date_format(latest, "SHORT_DATE_FORMAT"),
            },
        )


class RuleFields(models.Model):
    """A standard's rule: what judges a period; changing any of it makes a new version.

    The one declaration of the rule fields. ServiceStandard holds the rule being edited,
    StandardVersion its immutable snapshots; the engine's Rule, the rule preview, the admin
    form and the API serializers are built from RULE_FIELD_NAMES / RULE_FIELDS."""

    target = models.FloatField(verbose_name=_("target"))
    stretch_target = models.FloatField(
        null=True,
        blank=True,
        help_text=_("Beyond the target in the metric's direction: exceeded."),
        verbose_name=_("stretch target"),
    )
    threshold_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SECONDS)],
        help_text=_("Service level only: first responses within this count."),
        verbose_name=_("threshold (s)"),
    )
    min_sample = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MIN_SAMPLE)],
        help_text=_("Below this many data points the period is 'insufficient data'."),
        verbose_name=_("minimum sample"),
    )
    points_met = models.PositiveIntegerField(
        default=10, validators=[MaxValueValidator(MAX_POINTS)], verbose_name=_("points when met")
    )
    points_exceeded = models.PositiveIntegerField(
        default=20,
        validators=[MaxValueValidator(MAX_POINTS)],
        verbose_name=_("points when exceeded"),
    )
    points_missed_penalty = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_POINTS)],
        help_text=_(
            "Points taken away for a missed period (0: none). Never for insufficient data, "
            "nor for a period met but whose quality gate failed (that earns 0)."
        ),
        verbose_name=_("penalty when missed"),
    )
    quality_gate = models.ForeignKey(
        "performance.ServiceStandard",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Another standard (same period) that must be met for this one to earn points."),
        verbose_name=_("quality gate"),
    )
    coaching_missed = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_COACHING_WINDOW)],
        help_text=_("Coaching rule: missed in K ..."),
        verbose_name=_("coaching: missed (K)"),
    )
    coaching_window = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_COACHING_WINDOW)],
        help_text=_("... of the last N periods."),
        verbose_name=_("coaching: window (N)"),
    )
    coaching_resolve_after = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_COACHING_WINDOW)],
        help_text=_("A coaching flag resolves itself after M periods in a row that earn."),
        verbose_name=_("coaching: resolved after (M)"),
    )

    class Meta:
        abstract = True

    def rule(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in RULE_FIELDS}


# Field names (quality_gate) for forms and serializers; attribute names (quality_gate_id)
# for reading and copying a rule without loading the gate.
RULE_FIELD_NAMES = tuple(field.name for field in RuleFields._meta.local_fields)
RULE_FIELDS = tuple(field.attname for field in RuleFields._meta.local_fields)


class ServiceStandard(RuleFields):
    """What good looks like for one metric: configured by admins, versioned on rule edits."""

    name = models.CharField(max_length=100, verbose_name=_("name"))
    metric = models.CharField(max_length=32, choices=METRIC_CHOICES, verbose_name=_("metric"))
    channel = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("Only this channel's interactions; blank for all."),
        verbose_name=_("channel"),
    )
    teams = models.ManyToManyField(
        Team,
        blank=True,
        related_name="+",
        help_text=_("Blank for every team."),
        verbose_name=_("teams"),
    )
    period = models.CharField(
        max_length=8, choices=PERIOD_CHOICES, default="week", verbose_name=_("period")
    )
    active_from = models.DateField(
        validators=[validate_start_day],
        help_text=_("First day this standard applies."),
        verbose_name=_("active from"),
    )
    active_until = models.DateField(
        null=True,
        blank=True,
        validators=[validate_supported_day],
        help_text=_("Last day; blank: open."),
        verbose_name=_("active until"),
    )
    version = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("version"))

    class Meta:
        verbose_name = _("service standard")
        verbose_name_plural = _("service standards")
        ordering = ["name"]
        # The bounds clean() explains, kept by the database too (cheap: one row's columns).
        constraints = [
            models.CheckConstraint(
                condition=Q(active_from__gte=EARLIEST_DAY, active_from__lte=LATEST_DAY),
                name="standard_active_from_supported",
            ),
            models.CheckConstraint(
                condition=Q(active_until__isnull=True)
                | Q(active_until__gte=F("active_from"), active_until__lte=LATEST_DAY),
                name="standard_active_until_after_from",
            ),
            models.CheckConstraint(
                condition=Q(
                    min_sample__gte=1,
                    min_sample__lte=MAX_MIN_SAMPLE,
                    points_met__lte=MAX_POINTS,
                    points_exceeded__lte=MAX_POINTS,
                    points_missed_penalty__lte=MAX_POINTS,
                    coaching_missed__gte=1,
                    coaching_window__lte=MAX_COACHING_WINDOW,
                    coaching_missed__lte=F("coaching_window"),
                ),
                name="standard_rule_numbers_bounded",
            ),
            models.CheckConstraint(
                condition=Q(
                    coaching_resolve_after__gte=1,
                    coaching_resolve_after__lte=MAX_COACHING_WINDOW,
                ),
                name="standard_coaching_resolve_after_bounded",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def metric_definition(self) -> Metric:
        return METRICS[self.metric]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        metric = METRICS.get(self.metric)
        for name in ("target", "stretch_target"):
            value = getattr(self, name)
            if metric and value is not None and not metric.within_bounds(value):
                errors[name] = _("%(metric)s takes values from %(low)g to %(high)g.") % {
                    "metric": metric.label,
                    "low": metric.bounds[0],
                    "high": metric.bounds[1],
                }
        if (
            metric
            and not errors
            and self.stretch_target is not None
            and self.target is not None
            and not metric.is_beyond(self.stretch_target, self.target)
        ):
            errors["stretch_target"] = (
                _(
                    "%(metric)s is better when higher: the stretch target must be above the "
                    "target (%(target)g)."
                )
                if metric.direction == "higher"
                else _(
                    "%(metric)s is better when lower: the stretch target must be below the "
                    "target (%(target)g)."
                )
            ) % {"metric": metric.label, "target": self.target}
        if metric and metric.needs_threshold and not self.threshold_seconds:
            errors["threshold_seconds"] = _(
                "A service-level standard needs a threshold in seconds."
            )
        if self.quality_gate_id:
            if self.pk and self.quality_gate_id == self.pk:
                errors["quality_gate"] = _("A standard cannot gate itself.")
            elif self.quality_gate.period != self.period:
                errors["quality_gate"] = _("The gate must use the same period (%(period)s).") % {
                    "period": self.get_period_display().lower()
                }
            elif self.pk and _gate_chain_reaches(self.quality_gate, self.pk):
                errors["quality_gate"] = _("Gates cannot form a loop.")
        if self.active_until and self.active_from and self.active_until < self.active_from:
            errors["active_until"] = _("Ends before it starts.")
        if (
            self.coaching_missed
            and self.coaching_window
            and self.coaching_missed > self.coaching_window
        ):
            errors["coaching_missed"] = _("K cannot exceed N (missed in K of the last N periods).")
        if errors:
            raise ValidationError(errors)


# What an admin sets on a standard (the admin form, the API's input), rule fields last.
STANDARD_FIELDS = (
    "name",
    "metric",
    "channel",
    "teams",
    "period",
    "active_from",
    "active_until",
    *RULE_FIELD_NAMES,
)
# What a standard measures and for whom: fixed once it has evaluations, since its results
# would then mean something else under the same standard and version (clone it instead).
MEANING_FIELDS = ("metric", "period", "channel", "teams")


def _gate_chain_reaches(gate: ServiceStandard, standard_id: int) -> bool:
    seen = set()
    while gate is not None and gate.pk not in seen:
        if gate.pk == standard_id:
            return True
        seen.add(gate.pk)
        gate = gate.quality_gate
    return False


class StandardVersion(RuleFields):
    """An immutable snapshot of a standard's rule; applies to periods starting on or after
    `effective_from` until a later version takes over."""

    standard = models.ForeignKey(
        ServiceStandard,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("standard"),
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    effective_from = models.DateField(
        validators=[validate_supported_day], verbose_name=_("effective from")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("standard version")
        verbose_name_plural = _("standard versions")
        ordering = ["standard", "number"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "number"], name="standard_version_unique"),
            models.CheckConstraint(
                condition=Q(effective_from__gte=EARLIEST_DAY, effective_from__lte=LATEST_DAY),
                name="standard_version_effective_supported",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.standard.name} v{self.number}"


class Evaluation(models.Model):
    """One agent x standard x period judgement: a pure function of facts, rule and period."""

    class Outcome(models.TextChoices):
        EXCEEDED = "exceeded", _("Exceeded")
        MET = "met", _("Met")
        MISSED = "missed", _("Missed")
        INSUFFICIENT_DATA = "insufficient_data", _("Insufficient data")

    # No database FK constraints, as on Interaction: PostgreSQL checks them row by row at
    # commit, which cost more than writing the rows when a month is scored (1.5M rows).
    # Only the engine writes evaluations, with ids it has just read; Django's on_delete
    # (CASCADE, PROTECT) still applies to deletes made through the ORM.
    agent = models.ForeignKey(
        Agent,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("agent"),
    )
    standard = models.ForeignKey(
        ServiceStandard,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("standard"),
    )
    version = models.ForeignKey(
        StandardVersion,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("version"),
    )
    period_start = models.DateField(verbose_name=_("period start"))
    period_end = models.DateField(help_text=_("Exclusive."), verbose_name=_("period end"))
    value = models.FloatField(null=True, blank=True, verbose_name=_("value"))
    sample_size = models.PositiveIntegerField(verbose_name=_("sample size"))
    outcome = models.CharField(max_length=20, choices=Outcome.choices, verbose_name=_("outcome"))
    gate_passed = models.BooleanField(
        null=True,
        blank=True,
        help_text=_("Whether the quality gate was met; blank: no gate."),
        verbose_name=_("quality gate met"),
    )
    points = models.IntegerField(
        default=0, help_text=_("Points this judgement earns."), verbose_name=_("points")
    )
    computed_at = models.DateTimeField(verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["period_start", "standard_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "standard", "period_start"], name="evaluation_unique_period"
            ),
        ]
        indexes = [
            models.Index(fields=["standard", "period_start"], name="evaluation_standard_period"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.standard_id} {self.period_start}: {self.outcome}"
