"""The organisation: teams (with their time zone and leads), agents and the dated team
memberships behind their current team, channels, and what each person chose for themselves
(their language)."""

from __future__ import annotations

import zoneinfo
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)r is not an IANA time zone (e.g. Europe/Lisbon)"), params={"value": value}
        ) from None


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("IANA name; periods are computed in this zone."),
        verbose_name=_("time zone"),
    )
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("leads")
    )
    quality_analysts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text=_("Quality analysts who review (monitor) this team's interactions."),
        verbose_name=_("quality analysts"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="agent",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="agents", verbose_name=_("team")
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["user__first_name", "user__last_name", "user__username"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.username


# The first membership of every agent starts here: facts may be back-filled from any date
# before the agent's login existed, and they are judged in the agent's first team.
MEMBERSHIP_ORIGIN = date(2000, 1, 1)


class TeamMembership(models.Model):
    """A period an agent spent in a team: [starts_on, ends_on) in local dates, ends_on null
    for the current one. An agent's memberships never overlap and leave no gap from
    MEMBERSHIP_ORIGIN on (performance.services.organisation keeps it so: the one writer).
    A membership starts at local midnight of starts_on in its own team's zone."""

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("agent")
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("team")
    )
    starts_on = models.DateField(verbose_name=_("starts on"))
    ends_on = models.DateField(null=True, blank=True, verbose_name=_("ends on (exclusive)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["agent", "starts_on"]
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "starts_on"], name="team_membership_one_start_per_agent"
            ),
            models.UniqueConstraint(
                fields=["agent"],
                condition=models.Q(ends_on__isnull=True),
                name="team_membership_one_current_per_agent",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gt=models.F("starts_on")),
                name="team_membership_ends_after_it_starts",
            ),
        ]
        indexes = [
            # The heatmap: who was in these teams on a day.
            models.Index(fields=["team", "starts_on"], name="team_membership_team_day"),
            # The engine: the agents that ever moved (the only ones read membership by
            # membership).
            models.Index(
                fields=["agent"],
                condition=models.Q(ends_on__isnull=False),
                name="team_membership_moved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} in {self.team_id} from {self.starts_on}"

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


class Channel(models.Model):
    """The configurable list of contact channels (phone, email, chat, social, messaging...)."""

    code = models.SlugField(max_length=32, primary_key=True, verbose_name=_("code"))
    name = models.CharField(max_length=64, verbose_name=_("name"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name


class UserPreference(models.Model):
    """What a person chose for themselves; without a row, the browser's language applies."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: the browser's language."),
        verbose_name=_("language"),
    )
    email_notifications = models.BooleanField(
        default=False,
        help_text=_("Also send each notice by e-mail (the notices page always shows them)."),
        verbose_name=_("e-mail notices"),
    )

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"
