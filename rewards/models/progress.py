"""Streaks and levels: what admins configure (bonus lengths, level thresholds) and the
streaks reconciliation derives from closed periods."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from performance.models import Agent, ServiceStandard


class StreakBonus(models.Model):
    """Bonus points when a streak on a standard reaches a length, once per streak."""

    standard = models.ForeignKey(
        ServiceStandard,
        on_delete=models.CASCADE,
        related_name="streak_bonuses",
        verbose_name=_("standard"),
    )
    length = models.PositiveIntegerField(
        validators=[MinValueValidator(2), MaxValueValidator(520)],
        help_text=_("Consecutive closed periods that earn the standard."),
        verbose_name=_("length"),
    )
    points = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100_000)], verbose_name=_("points")
    )

    class Meta:
        ordering = ["standard__name", "length"]
        verbose_name = _("streak bonus")
        verbose_name_plural = _("streak bonuses")
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "length"], name="streak_bonus_one_per_length"
            ),
            models.CheckConstraint(
                condition=models.Q(length__gte=2, length__lte=520), name="streak_bonus_length_range"
            ),
            models.CheckConstraint(
                condition=models.Q(points__gte=1, points__lte=100_000),
                name="streak_bonus_points_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.standard}: {self.length} → {self.points}"


class AgentStreak(models.Model):
    """An agent's streak on a standard, derived by reconciliation (never edited by hand)."""

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="streaks", verbose_name=_("agent")
    )
    standard = models.ForeignKey(
        ServiceStandard, on_delete=models.CASCADE, related_name="+", verbose_name=_("standard")
    )
    current = models.PositiveIntegerField(default=0, verbose_name=_("current streak"))
    best = models.PositiveIntegerField(default=0, verbose_name=_("best streak"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["agent", "standard__name"]
        verbose_name = _("streak")
        verbose_name_plural = _("streaks")
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "standard"], name="agent_streak_one_per_standard"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.standard_id}: {self.current} (best {self.best})"


class Level(models.Model):
    """A name for agents whose lifetime points reach a threshold."""

    name = models.CharField(max_length=60, unique=True, verbose_name=_("name"))
    threshold = models.PositiveIntegerField(
        unique=True,
        validators=[MaxValueValidator(100_000_000)],
        help_text=_("Lifetime points from which an agent has this level."),
        verbose_name=_("threshold"),
    )

    class Meta:
        ordering = ["threshold"]
        verbose_name = _("level")
        verbose_name_plural = _("levels")

    def __str__(self) -> str:
        return f"{self.name} ({self.threshold})"
