"""The viewer's roles, for templates (account badge, home panel, batch list). The links of
the main navigation are composed in config.context_processors."""

from __future__ import annotations

from django.http import HttpRequest

from performance.roles import is_admin, is_agent, is_quality_analyst, is_team_lead


def navigation(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "nav_is_admin": is_admin(user),
        "nav_is_lead": is_team_lead(user),
        "nav_is_agent": is_agent(user),
        "nav_is_analyst": is_quality_analyst(user),
    }
