"""The audited ways a view reaches agents, batches and sources for a user.

Agents see their own rows, team leads the agents of the teams they lead, admins all.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404

from performance.models import Agent, FeedBatch, FeedSource, Team
from performance.roles import is_admin, is_team_lead


def teams_led_by(user: AbstractBaseUser) -> QuerySet[Team]:
    if is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(leads=user)


def agents_visible_to(user: AbstractBaseUser) -> QuerySet[Agent]:
    agents = Agent.objects.select_related("user", "team")
    if is_admin(user):
        return agents
    if is_team_lead(user):
        return agents.filter(team__leads=user) | agents.filter(user=user)
    return agents.filter(user=user)


def agent_for_user_or_404(user: AbstractBaseUser, agent_id: int) -> Agent:
    try:
        return agents_visible_to(user).get(pk=agent_id)
    except Agent.DoesNotExist:
        raise Http404("No such agent") from None


def can_upload_feeds(user: AbstractBaseUser) -> bool:
    return is_team_lead(user)


def sources_for_upload(user: AbstractBaseUser) -> QuerySet[FeedSource]:
    if not can_upload_feeds(user):
        return FeedSource.objects.none()
    return FeedSource.objects.filter(active=True)


def batches_visible_to(user: AbstractBaseUser) -> QuerySet[FeedBatch]:
    batches = FeedBatch.objects.select_related("source", "uploaded_by")
    if is_admin(user):
        return batches
    if is_team_lead(user):
        return batches.filter(uploaded_by=user)
    return batches.none()


def batch_for_user_or_404(user: AbstractBaseUser, batch_id: int) -> FeedBatch:
    try:
        return batches_visible_to(user).get(pk=batch_id)
    except FeedBatch.DoesNotExist:
        raise Http404("No such batch") from None
