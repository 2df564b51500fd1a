"""The points ledger: append-only entries, the balances kept beside them, and the outbox of
reconciliations the evaluation seam asks for.

The database itself refuses UPDATE and DELETE on `PointsEntry` (triggers created in the
migrations, on PostgreSQL and SQLite): a correction is a new entry, never an edit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from performance.models import Agent, ServiceStandard


class LedgerImmutableError(Exception):
    """An attempt to change or remove a ledger entry."""


class PointsEntry(models.Model):
    class Kind(models.TextChoices):
        STANDARD = "standard", _("Standard met or exceeded")
        STREAK_BONUS = "streak_bonus", _("Streak bonus")
        BADGE = "badge", _("Badge")
        CHALLENGE_PRIZE = "challenge_prize", _("Challenge prize")
        TRAINING_COMPLETED = "training_completed", _("Training completed")
        MANUAL_ADJUSTMENT = "manual_adjustment", _("Manual adjustment")
        COMPENSATION = "compensation", _("Compensation")
        REDEMPTION_HOLD = "redemption_hold", _("Redemption hold")
        REDEMPTION_RELEASED = "redemption_released", _("Redemption released")

    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="points_entries", verbose_name=_("agent")
    )
    points = models.IntegerField(verbose_name=_("points"))
    kind = models.CharField(max_length=24, choices=Kind.choices, verbose_name=_("kind"))
    earned_on = models.DateField(
        help_text=_("The local date the points belong to: an evaluation's period start."),
        verbose_name=_("earned on"),
    )
    reference = models.CharField(
        max_length=120,
        help_text=_("What caused the entry, e.g. evaluation:<standard>:<period start>."),
        verbose_name=_("reference"),
    )
    # The evaluation behind a standard entry (none for other kinds); no database constraint,
    # so that a standard removed later leaves its history readable.
    standard = models.ForeignKey(
        ServiceStandard,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("standard"),
    )
    outcome = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("The evaluation outcome the entry reflects."),
        verbose_name=_("outcome"),
    )
    idempotency_key = models.CharField(max_length=200, unique=True, verbose_name=_("key"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [
            models.Index(fields=["agent", "reference"], name="points_entry_agent_ref"),
            models.Index(fields=["agent", "-created_at"], name="points_entry_agent_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(points=0), name="points_entry_points_not_zero"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="manual_adjustment") | ~models.Q(note=""),
                name="points_entry_manual_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.points:+d} {self.kind} {self.reference}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise LedgerImmutableError("ledger entries cannot be changed; append a correction")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutableError("ledger entries cannot be deleted; append a correction")

    @property
    def is_penalty(self) -> bool:
        """A standard entry after which its period stands below zero: a missed period's
        penalty (kind stays `standard`, outcome `missed`). Known on the entries
        rewards.selectors.agent_history reads, which carry `reference_total`."""
        total = getattr(self, "reference_total", None)
        return self.kind == self.Kind.STANDARD and total is not None and total < 0


# What spending moves: holds reduce spendable points, released holds give them back. Every
# other kind is earned (lifetime).
SPENDING_KINDS = frozenset({PointsEntry.Kind.REDEMPTION_HOLD, PointsEntry.Kind.REDEMPTION_RELEASED})


class AgentBalance(models.Model):
    """An agent's balances, changed in the same transaction as each entry; its row is also
    the per-agent lock that serialises writers."""

    agent = models.OneToOneField(
        Agent, on_delete=models.PROTECT, related_name="points_balance", verbose_name=_("agent")
    )
    lifetime = models.IntegerField(default=0, verbose_name=_("lifetime points"))
    spendable = models.IntegerField(default=0, verbose_name=_("spendable points"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("points balance")
        verbose_name_plural = _("points balances")

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.lifetime} ({self.spendable} spendable)"


class ReconcileRequest(models.Model):
    """An evaluation change's scope still to reconcile (written by the seam's handler in the
    delivery transaction; the task marks it done)."""

    change_id = models.BigIntegerField(verbose_name=_("evaluation change"))
    first_period_start = models.DateField(verbose_name=_("first period start"))
    last_period_start = models.DateField(verbose_name=_("last period start"))
    standard_ids = models.JSONField(null=True, blank=True, verbose_name=_("standards"))
    agent_ids = models.JSONField(null=True, blank=True, verbose_name=_("agents"))
    batch_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("feed batch"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    done_at = models.DateTimeField(null=True, blank=True, verbose_name=_("done at"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("reconcile request")
        verbose_name_plural = _("reconcile requests")
        indexes = [models.Index(fields=["done_at", "id"], name="reconcile_request_pending")]

    def __str__(self) -> str:
        return f"Reconcile change {self.change_id}"
