"""Coaching flags: an agent x standard that needs coaching, opened by the coaching rule (K
missed of the last N closed periods) or by a lead, with the evaluations that triggered it;
and the seam's requests to derive them again."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from performance.models import Agent, Evaluation, ServiceStandard


class CoachingFlag(models.Model):
    """At most one open flag per agent and standard (the database keeps it so).

    `closed_through` is the last period start a closed flag covers: only periods after it
    count towards the next flag, so the misses behind a closed flag never count again."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Origin(models.TextChoices):
        RULE = "rule", _("Coaching rule")
        MANUAL = "manual", _("Opened by hand")

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="coaching_flags", verbose_name=_("agent")
    )
    standard = models.ForeignKey(
        ServiceStandard, on_delete=models.CASCADE, related_name="+", verbose_name=_("standard")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    origin = models.CharField(max_length=8, choices=Origin.choices, verbose_name=_("origin"))
    opened_on = models.DateField(
        help_text=_(
            "The start of the period that completed the rule (by hand: of the period under "
            "way when it was opened)."
        ),
        verbose_name=_("opened on"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Blank: the coaching rule opened it."),
        verbose_name=_("opened by"),
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    missed_periods = models.PositiveSmallIntegerField(
        default=0, help_text=_("Missed periods in its evidence."), verbose_name=_("misses")
    )
    gap = models.FloatField(
        null=True,
        blank=True,
        help_text=_("How far the latest missed period fell short of its target (0.1 = 10%)."),
        verbose_name=_("gap to target"),
    )
    resolved_on = models.DateField(
        null=True,
        blank=True,
        help_text=_(
            "The start of the period that completed the resolution, or the day a lead closed it."
        ),
        verbose_name=_("resolved on"),
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Blank: it resolved itself, or was withdrawn."),
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    closed_through = models.DateField(
        null=True,
        blank=True,
        help_text=_("Only periods after this one count towards a new flag."),
        verbose_name=_("closed through"),
    )
    reason = models.TextField(
        blank=True,
        help_text=_("Why it was resolved, dismissed or withdrawn."),
        verbose_name=_("reason"),
    )
    evidence_corrected = models.BooleanField(
        default=False,
        help_text=_("A correction changed its evidence after a coaching session used it."),
        verbose_name=_("evidence corrected"),
    )
    used_by_session_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When a coaching session first used it: from then on it is never withdrawn."),
        verbose_name=_("used by a session"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("coaching flag")
        verbose_name_plural = _("coaching flags")
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "standard"],
                condition=Q(status="open"),
                name="coaching_flag_one_open_per_standard",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "agent"], name="coaching_flag_status_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.standard_id} {self.opened_on}: {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class FlagEvidence(models.Model):
    """A missed period that triggered a flag, as it was judged then. The evaluation may be
    re-scored or deleted later (no database constraint: the engine deletes in bulk); the
    period start finds the current one."""

    flag = models.ForeignKey(
        CoachingFlag, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("flag")
    )
    evaluation = models.ForeignKey(
        Evaluation,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("evaluation"),
    )
    period_start = models.DateField(verbose_name=_("period start"))
    period_end = models.DateField(help_text=_("Exclusive."), verbose_name=_("period end"))
    value = models.FloatField(null=True, blank=True, verbose_name=_("value"))
    target = models.FloatField(verbose_name=_("target"))

    class Meta:
        ordering = ["period_start"]
        verbose_name = _("flag evidence")
        verbose_name_plural = _("flag evidence")
        constraints = [
            models.UniqueConstraint(
                fields=["flag", "period_start"], name="flag_evidence_one_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flag_id} {self.period_start}"


class FlagRequest(models.Model):
    """An evaluation change's scope whose flags are still to derive (written by the seam's
    handler in the delivery transaction; the task marks it done)."""

    change_id = models.BigIntegerField(verbose_name=_("evaluation change"))
    standard_ids = models.JSONField(null=True, blank=True, verbose_name=_("standards"))
    agent_ids = models.JSONField(null=True, blank=True, verbose_name=_("agents"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    done_at = models.DateTimeField(null=True, blank=True, verbose_name=_("done at"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("flag request")
        verbose_name_plural = _("flag requests")
        indexes = [models.Index(fields=["done_at", "id"], name="flag_request_pending")]

    def __str__(self) -> str:
        return f"Flag request for change {self.change_id}"
