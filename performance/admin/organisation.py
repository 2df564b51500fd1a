"""Admin for the organisation: teams, agents and their external ids, channels, and people's
preferences."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from performance.models import (
    Agent,
    AgentExternalId,
    Channel,
    Team,
    UserPreference,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "agent_count"]
    search_fields = ["name"]
    filter_horizontal = ["leads"]

    @admin.display(description=_("agents"))
    def agent_count(self, team: Team) -> int:
        return team.agents.count()


class AgentExternalIdInline(admin.TabularInline):
    model = AgentExternalId
    extra = 1


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "username", "email", "team", "active"]
    list_filter = ["team", "active"]
    list_select_related = ["user", "team"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "external_ids__external_id",
    ]
    autocomplete_fields = ["user"]
    inlines = [AgentExternalIdInline]

    @admin.display(description=_("name"), ordering="user__first_name")
    def name(self, agent: Agent) -> str:
        return agent.display_name

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, agent: Agent) -> str:
        return agent.user.username

    @admin.display(description=_("e-mail"), ordering="user__email")
    def email(self, agent: Agent) -> str:
        return agent.user.email


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
