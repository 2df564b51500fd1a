"""Coaching sessions: a coach and an agent, the flags they work on, an agenda from the
evidence, notes, action items, the agent's acknowledgement and a follow-up date."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coaching.models.flags import CoachingFlag
from performance.models import Agent

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 240
TEXT_MAX_LENGTH = 10_000
MAX_EVERY_WEEKS = 8


class SessionSeries(models.Model):
    """Recurring one-to-ones: a lead and an agent every N weeks at the same local time (in the
    agent's team zone); beat books the occurrences a few weeks ahead."""

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="+", verbose_name=_("agent")
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("coach"),
    )
    first_on = models.DateField(verbose_name=_("first on"))
    local_time = models.TimeField(help_text=_("In the agent's team zone."), verbose_name=_("time"))
    every_weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EVERY_WEEKS)],
        verbose_name=_("every (weeks)"),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, verbose_name=_("duration (minutes)")
    )
    ends_on = models.DateField(null=True, blank=True, verbose_name=_("last day"))
    stopped_at = models.DateTimeField(null=True, blank=True, verbose_name=_("stopped at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("one-to-one series")
        verbose_name_plural = _("one-to-one series")
        constraints = [
            models.CheckConstraint(
                condition=Q(every_weeks__gte=1) & Q(every_weeks__lte=MAX_EVERY_WEEKS),
                name="session_series_every_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} with {self.coach_id} every {self.every_weeks} weeks"

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None


class CoachingSession(models.Model):
    class Status(models.TextChoices):
        # A session's word (feminine in Portuguese: "sessão cancelada").
        SCHEDULED = "scheduled", pgettext_lazy("coaching session", "Scheduled")
        HELD = "held", pgettext_lazy("coaching session", "Held")
        CANCELLED = "cancelled", pgettext_lazy("coaching session", "Cancelled")

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="coaching_sessions", verbose_name=_("agent")
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coaching_sessions_given",
        verbose_name=_("coach"),
    )
    flags = models.ManyToManyField(
        CoachingFlag, blank=True, related_name="sessions", verbose_name=_("flags")
    )
    scheduled_at = models.DateTimeField(verbose_name=_("scheduled at"))
    duration_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[
            MinValueValidator(MIN_DURATION_MINUTES),
            MaxValueValidator(MAX_DURATION_MINUTES),
        ],
        verbose_name=_("duration (minutes)"),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED, verbose_name=_("status")
    )
    agenda = models.TextField(blank=True, verbose_name=_("agenda"))
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    outcome = models.TextField(blank=True, verbose_name=_("outcome"))
    follow_up_on = models.DateField(null=True, blank=True, verbose_name=_("follow-up on"))
    held_at = models.DateTimeField(null=True, blank=True, verbose_name=_("held at"))
    cancelled_reason = models.TextField(blank=True, verbose_name=_("why cancelled"))
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    acknowledgement = models.TextField(
        blank=True, help_text=_("The agent's comment."), verbose_name=_("agent's comment")
    )
    # The invitation's iCalendar SEQUENCE: each change calendars must apply bumps it.
    sequence = models.PositiveIntegerField(default=0, verbose_name=_("invitation revision"))
    invited = models.BooleanField(
        default=False,
        help_text=_("Calendar invitations went out (none for a session logged after the fact)."),
        verbose_name=_("invited"),
    )
    series = models.ForeignKey(
        SessionSeries,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        verbose_name=_("one-to-one series"),
    )
    # The series slot this session stands for; it stays when the session is moved, so
    # extending the series never books a moved slot again.
    occurrence_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("series occurrence")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        verbose_name = _("coaching session")
        verbose_name_plural = _("coaching sessions")
        constraints = [
            # An occurrence of a series is booked once, whoever extends the series.
            models.UniqueConstraint(
                fields=["series", "occurrence_at"], name="coaching_session_series_once"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=MIN_DURATION_MINUTES)
                & Q(duration_minutes__lte=MAX_DURATION_MINUTES),
                name="coaching_session_duration_bounded",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(status="held"),
                name="coaching_session_acknowledged_only_when_held",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "scheduled_at"], name="coaching_session_agent"),
            models.Index(fields=["coach", "scheduled_at"], name="coaching_session_coach"),
            models.Index(fields=["status", "follow_up_on"], name="coaching_session_follow_up"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} with {self.coach_id} at {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED

    @property
    def is_held(self) -> bool:
        return self.status == self.Status.HELD

    @property
    def awaits_acknowledgement(self) -> bool:
        return self.is_held and self.acknowledged_at is None


class ActionItem(models.Model):
    """Something to do after a session: who owns it, by when, and whether it is done."""

    class Owner(models.TextChoices):
        AGENT = "agent", _("Agent")
        COACH = "coach", _("Coach")

    session = models.ForeignKey(
        CoachingSession,
        on_delete=models.CASCADE,
        related_name="action_items",
        verbose_name=_("session"),
    )
    description = models.CharField(max_length=300, verbose_name=_("description"))
    owner = models.CharField(
        max_length=5, choices=Owner.choices, default=Owner.AGENT, verbose_name=_("owner")
    )
    due_on = models.DateField(null=True, blank=True, verbose_name=_("due on"))
    done_at = models.DateTimeField(null=True, blank=True, verbose_name=_("done at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")

    def __str__(self) -> str:
        return self.description

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
