"""Admin for the organisation: teams, agents and their external ids, channels."""

from __future__ import annotations

from django.contrib import admin

from performance.models import (
    Agent,
    AgentExternalId,
    Channel,
    Team,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "agent_count"]
    search_fields = ["name"]
    filter_horizontal = ["leads"]

    @admin.display(description="agents")
    def agent_count(self, team: Team) -> int:
        return team.agents.count()


class AgentExternalIdInline(admin.TabularInline):
    model = AgentExternalId
    extra = 1


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["display_name", "username", "email", "team", "active"]
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

    @admin.display(ordering="user__username")
    def username(self, agent: Agent) -> str:
        return agent.user.username

    @admin.display(ordering="user__email")
    def email(self, agent: Agent) -> str:
        return agent.user.email


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
