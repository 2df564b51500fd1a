"""The roles of Atendo, as Django groups."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

AGENT_GROUP = "Agent"
TEAM_LEAD_GROUP = "Team Lead"
ADMIN_GROUP = "Admin"
QUALITY_ANALYST_GROUP = "Quality Analyst"
ALL_GROUPS = (AGENT_GROUP, TEAM_LEAD_GROUP, ADMIN_GROUP, QUALITY_ANALYST_GROUP)


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.is_staff or _in_group(user, ADMIN_GROUP))
    )


def is_team_lead(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (_in_group(user, TEAM_LEAD_GROUP) or is_admin(user)))


def is_quality_analyst(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the login reviews interactions (monitoria) of the teams assigned to it."""
    return bool(
        user.is_authenticated and (_in_group(user, QUALITY_ANALYST_GROUP) or is_admin(user))
    )


def is_reviewer(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the login reviews interactions at all: quality analysts, leads, admins."""
    return is_quality_analyst(user) or is_team_lead(user)


def is_agent(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the login is set up as an agent (has a scorecard of its own)."""
    return bool(user.is_authenticated and hasattr(user, "agent"))


def _in_group(user: AbstractBaseUser, name: str) -> bool:
    cache = getattr(user, "_atendo_groups", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._atendo_groups = cache
    return name in cache
