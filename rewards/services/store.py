"""Redemptions: points held at once, then spent (approved) or released (rejected, cancelled).

Every write takes the agent's balance lock first (balances_lock), so one agent's requests
and decisions run one at a time; the stock is taken by a conditional UPDATE, so concurrent
redemptions of the last units by different agents never take it below zero.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from performance.models import Agent
from performance.services.organisation import team_today
from rewards.models import PointsEntry, Redemption, StoreItem
from rewards.selectors.store import item_visible_to
from rewards.services.ledger import NewEntry, balances_lock, entries_append
from rewards.services.notices import redemption_decided_notify, redemption_requested_notify

MAX_IDEMPOTENCY_KEY = 120


def _ledger_note(message: str, **values: object) -> str:
    """Ledger notes are kept in the site's language, whoever's request writes them."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(message) % {name: str(value) for name, value in values.items()}


class IdempotencyKeyReused(Exception):
    """The key names an earlier redemption of a different item."""

    def __init__(self, redemption: Redemption) -> None:
        super().__init__(f"key already used for redemption {redemption.pk}")
        self.redemption = redemption


@dataclass(frozen=True)
class RedemptionRequested:
    redemption: Redemption
    created: bool  # False: a retry with the same key returned the earlier redemption


def idempotency_key_clean(raw: str | None) -> str:
    """A client's key as given, or a fresh one; refuses blank-but-present and oversized keys."""
    if raw is None:
        return f"auto:{uuid.uuid4()}"
    key = raw.strip()
    if not key:
        raise ValidationError({"idempotency_key": _("The Idempotency-Key is empty.")})
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationError(
            {
                "idempotency_key": _("The Idempotency-Key is longer than %(limit)s characters.")
                % {"limit": MAX_IDEMPOTENCY_KEY}
            }
        )
    return key


def redemption_request(
    *, agent: Agent, item_id: int, requested_by: AbstractBaseUser, idempotency_key: str
) -> RedemptionRequested:
    """Redeem one unit of an item for the agent: hold its cost from spendable points and take
    it from the stock, or refuse with the reason. A repeated key returns the first outcome."""
    with transaction.atomic():
        balance = balances_lock([agent.pk])[agent.pk]
        earlier = (
            Redemption.objects.select_related("item")
            .filter(agent=agent, idempotency_key=idempotency_key)
            .first()
        )
        if earlier is not None:
            if earlier.item_id != item_id:
                raise IdempotencyKeyReused(earlier)
            return RedemptionRequested(earlier, created=False)
        item = StoreItem.objects.filter(pk=item_id).first()
        if item is None or not item_visible_to(item, agent):
            raise ValidationError({"item": _("There is no such item in your store.")})
        if not item.active:
            raise ValidationError({"item": _("%(item)s is no longer offered.") % {"item": item}})
        if balance.spendable < item.cost:
            raise ValidationError(
                {
                    "item": _("%(item)s costs %(cost)s points; you have %(spendable)s to spend.")
                    % {"item": item, "cost": item.cost, "spendable": balance.spendable}
                }
            )
        if item.stock is not None:
            taken = StoreItem.objects.filter(pk=item.pk, stock__gte=1).update(stock=F("stock") - 1)
            if not taken:
                raise ValidationError({"item": _("%(item)s is out of stock.") % {"item": item}})
        redemption = Redemption.objects.create(
            agent=agent,
            item=item,
            cost=item.cost,
            idempotency_key=idempotency_key,
            requested_by=requested_by,
        )
        entries_append(
            [
                NewEntry(
                    agent_id=agent.pk,
                    points=-item.cost,
                    kind=PointsEntry.Kind.REDEMPTION_HOLD,
                    earned_on=team_today(agent.team),
                    reference=redemption.reference,
                    idempotency_key=f"{redemption.reference}:hold",
                    note=_ledger_note(
                        gettext_noop("Held for %(item)s (redemption %(id)s)"),
                        item=item,
                        id=redemption.pk,
                    ),
                    created_by=requested_by,
                )
            ]
        )
        redemption_requested_notify(redemption)
    return RedemptionRequested(redemption, created=True)


def _decide(
    *,
    redemption: Redemption,
    status: Redemption.Status,
    decided_by: AbstractBaseUser,
    reason: str = "",
) -> Redemption:
    """Move a pending redemption to its final status, once (compare-and-swap), releasing
    the hold and the unit unless it was approved."""
    with transaction.atomic():
        balances_lock([redemption.agent_id])
        now = timezone.now()
        moved = Redemption.objects.filter(
            pk=redemption.pk, status=Redemption.Status.PENDING
        ).update(status=status, decided_by=decided_by, decided_at=now, reason=reason)
        if not moved:
            current = Redemption.objects.get(pk=redemption.pk)
            raise ValidationError(
                {
                    "status": _("This redemption is already %(status)s.")
                    % {"status": current.get_status_display().lower()}
                }
            )
        if status != Redemption.Status.APPROVED:
            StoreItem.objects.filter(pk=redemption.item_id, stock__isnull=False).update(
                stock=F("stock") + 1
            )
            item = redemption.item
            note = _ledger_note(
                gettext_noop("Released: %(item)s was rejected: %(reason)s")
                if status == Redemption.Status.REJECTED
                else gettext_noop("Released: %(item)s, cancelled by the agent"),
                item=item,
                reason=reason,
            )
            entries_append(
                [
                    NewEntry(
                        agent_id=redemption.agent_id,
                        points=redemption.cost,
                        kind=PointsEntry.Kind.REDEMPTION_RELEASED,
                        earned_on=team_today(redemption.agent.team),
                        reference=redemption.reference,
                        idempotency_key=f"{redemption.reference}:release",
                        note=note,
                        created_by=decided_by,
                    )
                ]
            )
        redemption.refresh_from_db()
        redemption_decided_notify(redemption)
    return redemption


def _reason_required(reason: str, message: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


def redemption_approve(*, redemption: Redemption, decided_by: AbstractBaseUser) -> Redemption:
    """The points held are spent; the agent gets the item. Access is the caller's check."""
    return _decide(redemption=redemption, status=Redemption.Status.APPROVED, decided_by=decided_by)


def redemption_reject(
    *, redemption: Redemption, decided_by: AbstractBaseUser, reason: str
) -> Redemption:
    """The points held go back to the agent, the unit to the stock, with the reason."""
    reason = _reason_required(reason, _("Say why: the agent sees the reason."))
    return _decide(
        redemption=redemption,
        status=Redemption.Status.REJECTED,
        decided_by=decided_by,
        reason=reason,
    )


def redemption_cancel(*, redemption: Redemption, cancelled_by: AbstractBaseUser) -> Redemption:
    """The agent changed their mind while it awaited approval."""
    return _decide(
        redemption=redemption, status=Redemption.Status.CANCELLED, decided_by=cancelled_by
    )
