"""Leaderboards: the boards admins configure, and the points totals that serve them, kept
per agent, window and channel in the same transaction as each ledger entry (so a board
never sums the ledger per request)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from performance.models import Agent
from rewards.windows import SPAN_CHOICES, Span


class Leaderboard(models.Model):
    class Scope(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        TEAM = "team", _("A team")
        CHANNEL = "channel", _("A channel's standards")

    class Ranks(models.TextChoices):
        AGENTS = "agents", _("Agents")
        TEAMS = "teams", _("Teams, by points per active agent")

    class Privacy(models.TextChoices):
        NAMES = "names", _("Names for everyone")
        TOP_AND_NEIGHBOURS = "top", _("Agents see only the top N and their neighbours")
        ANONYMISED = "anonymised", _("Agents see others anonymised")

    name = models.CharField(max_length=100, verbose_name=_("name"))
    slug = models.SlugField(max_length=60, unique=True, verbose_name=_("slug"))
    scope = models.CharField(
        max_length=12, choices=Scope.choices, default=Scope.EVERYONE, verbose_name=_("scope")
    )
    channel = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("For a channel board: points from the standards on this channel."),
        verbose_name=_("channel"),
    )
    ranks = models.CharField(
        max_length=8, choices=Ranks.choices, default=Ranks.AGENTS, verbose_name=_("ranks")
    )
    default_window = models.CharField(
        max_length=8, choices=SPAN_CHOICES, default=Span.MONTH.value, verbose_name=_("window")
    )
    privacy = models.CharField(
        max_length=12,
        choices=Privacy.choices,
        default=Privacy.NAMES,
        help_text=_("What agents see of others; leads and admins always see names."),
        verbose_name=_("privacy"),
    )
    top_n = models.PositiveIntegerField(
        default=50,
        validators=[MinValueValidator(3), MaxValueValidator(200)],
        help_text=_("Rows per page; with top-N privacy, all agents see."),
        verbose_name=_("top N"),
    )
    minimum_agents = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A team board ranks only teams with at least this many active agents."),
        verbose_name=_("minimum agents"),
    )
    on_wallboard = models.BooleanField(
        default=False,
        help_text=_("Shown in turn on the contact-centre TV."),
        verbose_name=_("on the wall board"),
    )
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("leaderboard")
        verbose_name_plural = _("leaderboards")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(scope="channel") | ~models.Q(channel=""),
                name="leaderboard_channel_scope_names_channel",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope="team", ranks="teams"),
                name="leaderboard_team_scope_ranks_agents",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.scope == self.Scope.CHANNEL and not self.channel:
            errors["channel"] = _("A channel board needs its channel.")
        if self.scope != self.Scope.CHANNEL and self.channel:
            errors["channel"] = _("Only a channel board has a channel.")
        if self.scope == self.Scope.TEAM and self.ranks == self.Ranks.TEAMS:
            errors["ranks"] = _("A team's board ranks its agents; rank teams on everyone's.")
        if errors:
            raise ValidationError(errors)

    @property
    def board_channel(self) -> str:
        """The totals' channel key: '' for all points."""
        return self.channel if self.scope == self.Scope.CHANNEL else ""


class PointsTotal(models.Model):
    """An agent's earned points in one window (by earned_on), for all standards (channel '')
    or one channel's; rebuilt from the ledger by rewards_leaderboards_rebuild."""

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="+", verbose_name=_("agent")
    )
    span = models.CharField(max_length=8, choices=SPAN_CHOICES, verbose_name=_("window"))
    starts_on = models.DateField(verbose_name=_("window start"))
    channel = models.CharField(max_length=32, blank=True, verbose_name=_("channel"))
    points = models.IntegerField(default=0, verbose_name=_("points"))

    class Meta:
        verbose_name = _("points total")
        verbose_name_plural = _("points totals")
        constraints = [
            models.UniqueConstraint(
                fields=["span", "starts_on", "channel", "agent"], name="points_total_key"
            )
        ]
        indexes = [
            models.Index(
                fields=["span", "starts_on", "channel", "-points"], name="points_total_board"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.span} {self.starts_on} {self.channel}: {self.points}"
