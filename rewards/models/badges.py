"""Badges: what admins define (a criterion, its numbers, points, how often it can be earned)
and the badges reconciliation derives for each agent from the evidence (never granted by
hand: a badge whose evidence is corrected away is withdrawn, with a compensating entry)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from performance.models import Agent, ServiceStandard

# The icons the project ships (static/vendor/badges/<name>.svg, copied by `make assets`).
BADGE_ICONS = [
    ("award", _("Rosette")),
    ("star", _("Star")),
    ("flame", _("Flame")),
    ("trophy", _("Trophy")),
    ("medal", _("Medal")),
    ("crown", _("Crown")),
    ("rocket", _("Rocket")),
    ("target", _("Target")),
    ("heart", _("Heart")),
    ("smile", _("Smile")),
    ("zap", _("Lightning")),
    ("book-open", _("Book")),
]
MAX_BADGE_THRESHOLD = 100_000_000


class Badge(models.Model):
    class Criterion(models.TextChoices):
        STREAK = "streak", _("A streak of N periods on a standard")
        EXCEEDED = "exceeded", _("N exceeded periods on a standard")
        LIFETIME_POINTS = "lifetime_points", _("Lifetime points reach N")
        LEADERBOARD_TOP = "leaderboard_top", _("A top-N finish on a leaderboard")
        TRAININGS = "trainings", _("N trainings completed")
        FIVE_STAR_CSAT = "five_star_csat", _("N five-star CSAT surveys")
        CHALLENGE = "challenge", _("A prize in a challenge")

    # Each is a leaderboard window span (rewards.windows.Span): once is the all-time window.
    class Repeat(models.TextChoices):
        ONCE = "all", _("Once")
        WEEK = "week", _("Once per week")
        MONTH = "month", _("Once per month")
        QUARTER = "quarter", _("Once per quarter")

    name = models.CharField(max_length=80, unique=True, verbose_name=_("name"))
    description = models.CharField(max_length=300, blank=True, verbose_name=_("description"))
    icon = models.CharField(
        max_length=20, choices=BADGE_ICONS, default="award", verbose_name=_("icon")
    )
    criterion = models.CharField(
        max_length=20, choices=Criterion.choices, verbose_name=_("criterion")
    )
    threshold = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BADGE_THRESHOLD)],
        help_text=_(
            "N: the streak length, exceeded periods, lifetime points, top places, trainings "
            "or five-star surveys (1 for a challenge prize: the challenge sets the places)."
        ),
        verbose_name=_("N"),
    )
    standard = models.ForeignKey(
        ServiceStandard,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="badges",
        help_text=_("For streak and exceeded badges."),
        verbose_name=_("standard"),
    )
    leaderboard = models.ForeignKey(
        "rewards.Leaderboard",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="badges",
        help_text=_("For top-N badges: ranked on its default window, when each window closes."),
        verbose_name=_("leaderboard"),
    )
    points = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(100_000)],
        help_text=_("Points the badge earns; 0 for the honour alone."),
        verbose_name=_("points"),
    )
    repeat = models.CharField(
        max_length=10,
        choices=Repeat.choices,
        default=Repeat.ONCE,
        help_text=_("Once ever, or again in every week, month or quarter the criterion is met."),
        verbose_name=_("earned"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gte=1, threshold__lte=MAX_BADGE_THRESHOLD),
                name="badge_threshold_range",
            ),
            models.CheckConstraint(
                condition=models.Q(points__lte=100_000), name="badge_points_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(criterion__in=["streak", "exceeded"])
                | models.Q(standard__isnull=False),
                name="badge_standard_criteria_have_a_standard",
            ),
            models.CheckConstraint(
                condition=~models.Q(criterion="leaderboard_top")
                | models.Q(leaderboard__isnull=False),
                name="badge_top_criterion_has_a_board",
            ),
            models.CheckConstraint(
                condition=~models.Q(criterion="lifetime_points") | models.Q(repeat="all"),
                name="badge_lifetime_points_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, str] = {}
        needs_standard = self.criterion in {self.Criterion.STREAK, self.Criterion.EXCEEDED}
        if needs_standard and self.standard_id is None:
            errors["standard"] = _("Choose the standard this badge is about.")
        if self.criterion == self.Criterion.LEADERBOARD_TOP and self.leaderboard_id is None:
            errors["leaderboard"] = _("Choose the leaderboard whose top places earn it.")
        if self.criterion == self.Criterion.CHALLENGE and self.threshold != 1:
            errors["threshold"] = _("A challenge prize is won once per challenge: set N to 1.")
        if self.criterion == self.Criterion.LIFETIME_POINTS and self.repeat != self.Repeat.ONCE:
            errors["repeat"] = _("Lifetime points are reached once.")
        if errors:
            raise ValidationError(errors)


class AgentBadge(models.Model):
    """A badge an agent holds, derived by reconciliation (never edited by hand)."""

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="badges", verbose_name=_("agent")
    )
    badge = models.ForeignKey(
        Badge, on_delete=models.CASCADE, related_name="holders", verbose_name=_("badge")
    )
    # The start of the window it was earned in (for a badge earned once: the all-time one).
    window_start = models.DateField(verbose_name=_("window"))
    earned_on = models.DateField(verbose_name=_("earned on"))
    evidence = models.CharField(max_length=300, verbose_name=_("evidence"))

    class Meta:
        ordering = ["-earned_on", "badge__position"]
        verbose_name = _("agent badge")
        verbose_name_plural = _("agent badges")
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "badge", "window_start"],
                name="agent_badge_once_per_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.badge_id} {self.earned_on}"
