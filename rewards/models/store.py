"""The reward store: items agents redeem with spendable points, and their redemptions.

A redemption holds its points at once (a `redemption_hold` entry); approving it spends them
(nothing more is written to the ledger), rejecting or cancelling it releases them (a
`redemption_released` entry) and gives the unit back to the stock.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from performance.models import Agent, Team

# A cost beyond this is a typo, not a prize.
MAX_ITEM_COST = 1_000_000


class StoreItem(models.Model):
    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    cost = models.PositiveIntegerField(verbose_name=_("cost in points"))
    stock = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Units left; empty for unlimited. Redemptions take one each."),
        verbose_name=_("stock"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    teams = models.ManyToManyField(
        Team,
        blank=True,
        related_name="+",
        help_text=_("Only agents of these teams see the item; none for everyone."),
        verbose_name=_("teams"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["position", "cost", "name"]
        verbose_name = _("store item")
        verbose_name_plural = _("store items")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost__gte=1, cost__lte=MAX_ITEM_COST),
                name="store_item_cost_range",
            ),
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(stock__gte=0),
                name="store_item_stock_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def unlimited(self) -> bool:
        return self.stock is None

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


class Redemption(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("agent")
    )
    item = models.ForeignKey(
        StoreItem, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("item")
    )
    # The price paid: an item's cost may change later, the hold does not.
    cost = models.PositiveIntegerField(verbose_name=_("cost in points"))
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    # A client's retry key: the same key from the same agent returns the same redemption.
    idempotency_key = models.CharField(max_length=120, verbose_name=_("idempotency key"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    reason = models.TextField(
        blank=True,
        help_text=_("Why it was rejected or cancelled."),
        verbose_name=_("reason"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("requested at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "idempotency_key"], name="redemption_agent_key_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="redemption_status_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.item_id} {self.status}"

    @property
    def reference(self) -> str:
        """The ledger reference of its hold and release."""
        return f"redemption:{self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
