"""What rewards tells people (performance.services.notifications writes and e-mails it):
a badge earned, a level reached, a redemption awaiting a lead or decided for the agent.
Each notice once, in the recipient's language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from performance.models import Agent
from performance.services.notifications import Notice, notices_send
from rewards.models import Level, Redemption

# Badges earned longer ago than this are history, not news: a first reconciliation of a
# long history (or a new badge definition) must not flood everyone with old notices.
BADGE_NEWS_DAYS = 14


def badges_earned_notify(awards: Iterable, *, today: date) -> int:
    awards = [award for award in awards if award.earned_on >= today - timedelta(BADGE_NEWS_DAYS)]
    if not awards:
        return 0
    users = dict(
        Agent.objects.filter(pk__in={award.agent_id for award in awards}).values_list(
            "pk", "user_id"
        )
    )
    url = reverse("rewards:my-points")
    return notices_send(
        [
            Notice(
                user_id=users[award.agent_id],
                key=f"{award.reference}",
                kind="badge",
                message=lambda award=award: (
                    _("You earned the badge %(badge)s: %(evidence)s")
                    % {"badge": award.badge.name, "evidence": award.evidence}
                ),
                url=url,
            )
            for award in awards
        ]
    )


def levels_reached_notify(lifetimes: Sequence[tuple[int, int, int]]) -> int:
    """(agent id, lifetime before, lifetime after): a notice for each level newly reached."""
    rising = [(agent_id, before, after) for agent_id, before, after in lifetimes if after > before]
    if not rising:
        return 0
    levels = list(Level.objects.order_by("threshold"))
    reached = []
    for agent_id, before, after in rising:
        for level in levels:
            if before < level.threshold <= after:
                reached.append((agent_id, level))
    if not reached:
        return 0
    users = dict(
        Agent.objects.filter(pk__in={agent_id for agent_id, _ in reached}).values_list(
            "pk", "user_id"
        )
    )
    url = reverse("rewards:my-points")
    return notices_send(
        [
            Notice(
                user_id=users[agent_id],
                key=f"level:{level.pk}",
                kind="level",
                message=lambda level=level: (
                    _("You reached the level %(level)s.") % {"level": level.name}
                ),
                url=url,
            )
            for agent_id, level in reached
        ]
    )


def redemption_requested_notify(redemption: Redemption) -> int:
    """The leads of the agent's team: a redemption awaits their approval."""
    agent = redemption.agent
    url = reverse("rewards:approvals")
    return notices_send(
        [
            Notice(
                user_id=lead_id,
                key=f"{redemption.reference}:pending",
                kind="redemption",
                message=lambda: (
                    _("%(agent)s redeemed %(item)s: it awaits your approval.")
                    % {"agent": agent.display_name, "item": redemption.item.name}
                ),
                url=url,
            )
            for lead_id in agent.team.leads.values_list("pk", flat=True)
            if lead_id != agent.user_id
        ]
    )


def redemption_decided_notify(redemption: Redemption) -> int:
    """The agent: their redemption was approved or rejected (a cancellation is their own)."""
    if redemption.status == Redemption.Status.APPROVED:

        def message() -> str:
            return _("Your redemption of %(item)s was approved.") % {"item": redemption.item.name}

    elif redemption.status == Redemption.Status.REJECTED:

        def message() -> str:
            return _("Your redemption of %(item)s was rejected: %(reason)s") % {
                "item": redemption.item.name,
                "reason": redemption.reason,
            }

    else:
        return 0
    return notices_send(
        [
            Notice(
                user_id=redemption.agent.user_id,
                key=f"{redemption.reference}:{redemption.status}",
                kind="redemption",
                message=message,
                url=reverse("rewards:my-redemptions"),
            )
        ]
    )
