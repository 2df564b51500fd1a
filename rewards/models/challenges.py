"""Challenges: time-boxed contests between agents (or teams) of some teams, on points or on
a metric over the window with a minimum sample. Late data re-ranks them during a grace
period; then the results are frozen (`ChallengeResult`) and reconciliation pays the prizes
through the ledger, once."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from performance.metrics import METRICS
from performance.models import Agent, ServiceStandard, Team

# Metrics a challenge can rank on: those whose formula needs no per-standard threshold.
CHALLENGE_METRIC_CHOICES = [
    (metric.key, metric.label) for metric in METRICS.values() if not metric.needs_threshold
]
MAX_CHALLENGE_DAYS = 92
DEFAULT_GRACE_DAYS = 3


class Challenge(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Agents against each other")
        TEAM = "team", _("Teams against each other")

    class Measure(models.TextChoices):
        POINTS = "points", _("Points earned in the window")
        METRIC = "metric", _("A metric over the window")
        FIRST_TO = "first_to", _("First to N exceeded periods")

    class Status(models.TextChoices):
        UPCOMING = "upcoming", _("Upcoming")
        RUNNING = "running", _("Running")
        GRACE = "grace", _("Ended: late data may still re-rank it")
        FINAL = "final", _("Final")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    kind = models.CharField(
        max_length=12, choices=Kind.choices, default=Kind.INDIVIDUAL, verbose_name=_("kind")
    )
    measure = models.CharField(
        max_length=10, choices=Measure.choices, default=Measure.POINTS, verbose_name=_("measure")
    )
    metric = models.CharField(
        max_length=30,
        choices=CHALLENGE_METRIC_CHOICES,
        blank=True,
        help_text=_("For a metric challenge: ranked best first in the metric's direction."),
        verbose_name=_("metric"),
    )
    channel = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("Only this channel's interactions count (metric challenges); empty: all."),
        verbose_name=_("channel"),
    )
    minimum_sample = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text=_("Below it a participant is listed but not ranked (e.g. 30 surveys)."),
        verbose_name=_("minimum sample"),
    )
    target = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1_000)],
        help_text=_(
            "For a first-to challenge: the exceeded periods to reach (a team's agents add up)."
        ),
        verbose_name=_("N"),
    )
    standard = models.ForeignKey(
        ServiceStandard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For a first-to challenge: only this standard's periods count; empty: any."),
        verbose_name=_("standard"),
    )
    teams = models.ManyToManyField(Team, related_name="+", verbose_name=_("teams taking part"))
    starts_on = models.DateField(verbose_name=_("first day"))
    ends_on = models.DateField(verbose_name=_("last day"))
    time_zone = models.CharField(
        max_length=64,
        help_text=_("The creator's team zone: the window's days and its end are read in it."),
        verbose_name=_("time zone"),
    )
    grace_days = models.PositiveSmallIntegerField(
        default=DEFAULT_GRACE_DAYS,
        validators=[MaxValueValidator(30)],
        help_text=_("Days after the end during which late data still re-ranks it."),
        verbose_name=_("grace days"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finalized_at = models.DateTimeField(null=True, blank=True, verbose_name=_("final since"))

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="challenge_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=~models.Q(measure="metric") | ~models.Q(metric=""),
                name="challenge_metric_measure_has_a_metric",
            ),
            models.CheckConstraint(
                condition=~models.Q(measure="first_to") | models.Q(target__gte=1),
                name="challenge_first_to_has_a_target",
            ),
            models.CheckConstraint(
                condition=models.Q(grace_days__lte=30), name="challenge_grace_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def final_on(self) -> date:
        """The first local day on which the results are final."""
        return self.ends_on + timedelta(days=self.grace_days + 1)

    def status_on(self, today: date) -> Challenge.Status:
        if self.finalized_at is not None:
            return self.Status.FINAL
        if today < self.starts_on:
            return self.Status.UPCOMING
        if today <= self.ends_on:
            return self.Status.RUNNING
        return self.Status.GRACE

    @property
    def metric_spec(self):
        return METRICS[self.metric] if self.metric else None

    @property
    def lower_is_better(self) -> bool:
        """A first-to challenge ranks on the day N was reached: the earlier, the better."""
        from performance.metrics import Direction

        if self.measure == self.Measure.FIRST_TO:
            return True
        return self.measure == self.Measure.METRIC and METRICS[self.metric].direction is (
            Direction.LOWER
        )

    def reached_on(self, value: float | None) -> date | None:
        """A first-to standing's value is the day of the window N was reached (1: the first)."""
        if self.measure != self.Measure.FIRST_TO or value is None:
            return None
        return self.starts_on + timedelta(days=int(value) - 1)


class ChallengePrize(models.Model):
    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="prizes", verbose_name=_("challenge")
    )
    place = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)], verbose_name=_("place")
    )
    points = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(100_000)],
        help_text=_(
            "For each agent in that place (every agent of a winning team); 0: the badge alone."
        ),
        verbose_name=_("points"),
    )
    badge = models.ForeignKey(
        "rewards.Badge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"criterion": "challenge"},
        help_text=_('A badge of the criterion "a prize in a challenge" for that place.'),
        verbose_name=_("badge"),
    )

    class Meta:
        ordering = ["place"]
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        constraints = [
            models.UniqueConstraint(fields=["challenge", "place"], name="challenge_prize_place"),
            models.CheckConstraint(
                condition=models.Q(place__gte=1)
                & (models.Q(points__gte=1) | models.Q(badge__isnull=False)),
                name="challenge_prize_points_or_badge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id} #{self.place}: {self.points}"


class ChallengeResult(models.Model):
    """A participant's final standing, frozen when the grace period ends; the prizes the
    ledger pays are derived from these rows."""

    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="results", verbose_name=_("challenge")
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="+", verbose_name=_("agent")
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For a team challenge: the team the agent won with."),
        verbose_name=_("team"),
    )
    rank = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("rank"))
    value = models.FloatField(null=True, blank=True, verbose_name=_("value"))
    sample = models.PositiveIntegerField(default=0, verbose_name=_("sample"))
    prize_points = models.PositiveIntegerField(default=0, verbose_name=_("prize points"))
    prize_badge = models.ForeignKey(
        "rewards.Badge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prize badge"),
    )

    class Meta:
        ordering = ["challenge", "rank", "agent"]
        verbose_name = _("challenge result")
        verbose_name_plural = _("challenge results")
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "agent"], name="challenge_result_once_per_agent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id} {self.agent_id} #{self.rank}"

    @property
    def reference(self) -> str:
        return f"challenge:{self.challenge_id}"
