"""The store's reads: the items an agent may redeem, redemptions by role, the approvals
queue. Deciding a redemption is for the leads of the agent's team and admins, never the
agent themselves (the same rule as adjusting points)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from performance.access import agents_visible_to
from performance.models import Agent
from performance.roles import is_agent, is_team_lead
from rewards.models import Redemption, StoreItem


def item_visible_to(item: StoreItem, agent: Agent) -> bool:
    team_ids = {team.pk for team in item.teams.all()}
    return not team_ids or agent.team_id in team_ids


def store_items_for(user: AbstractBaseUser) -> QuerySet[StoreItem]:
    """Active items: an agent's are those offered to their team (or to everyone); leads and
    admins see the whole catalogue."""
    items = StoreItem.objects.filter(active=True).prefetch_related("teams")
    if is_agent(user) and not is_team_lead(user):
        items = items.filter(Q(teams__isnull=True) | Q(teams=user.agent.team_id)).distinct()
    return items


@dataclass(frozen=True)
class StoreOffer:
    item: StoreItem
    missing_points: int  # how many more spendable points redeeming it takes (0: affordable)


def store_offers_for(user: AbstractBaseUser, *, spendable: int | None) -> list[StoreOffer]:
    """The store page's items, with what each still costs the viewer beyond their
    spendable points (None: the viewer does not redeem)."""
    return [
        StoreOffer(item, max(item.cost - spendable, 0) if spendable is not None else 0)
        for item in store_items_for(user)
    ]


def agent_redemptions(agent: Agent) -> QuerySet[Redemption]:
    return agent.redemptions.select_related("item", "decided_by")


def redemptions_visible_to(user: AbstractBaseUser) -> QuerySet[Redemption]:
    """An agent's own, a lead's teams' agents', an admin's all."""
    return Redemption.objects.filter(agent__in=agents_visible_to(user)).select_related(
        "agent__user", "agent__team", "item", "decided_by"
    )


def redemptions_decidable_by(user: AbstractBaseUser) -> QuerySet[Redemption]:
    """The redemptions a lead or admin decides: their agents', never their own."""
    if not is_team_lead(user):
        return Redemption.objects.none()
    return redemptions_visible_to(user).exclude(agent__user=user)


def redemptions_awaiting(user: AbstractBaseUser) -> QuerySet[Redemption]:
    """The approvals queue, oldest first."""
    return (
        redemptions_decidable_by(user)
        .filter(status=Redemption.Status.PENDING)
        .order_by("created_at", "id")
    )


def redemption_for_decision_or_404(user: AbstractBaseUser, redemption_id: int) -> Redemption:
    redemption = redemptions_decidable_by(user).filter(pk=redemption_id).first()
    if redemption is None:
        raise Http404(_("No such redemption among those you decide."))
    return redemption


def redemption_own_or_404(user: AbstractBaseUser, redemption_id: int) -> Redemption:
    redemption = (
        Redemption.objects.select_related("agent__team", "item")
        .filter(pk=redemption_id, agent__user=user)
        .first()
        if is_agent(user)
        else None
    )
    if redemption is None:
        raise Http404(_("No such redemption of yours."))
    return redemption
