"""Admin for the organisation: teams, agents (their team history and external ids), channels,
and people's preferences. Changing an agent's team is a move through agent_move_team."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from performance.forms import NativeDateInput
from performance.models import (
    Agent,
    AgentExternalId,
    Channel,
    Team,
    TeamMembership,
    UserPreference,
)
from performance.services.organisation import (
    MOVE_BACKDATE_DAYS,
    agent_membership_open,
    agent_move_check,
    agent_move_team,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "agent_count"]
    search_fields = ["name"]
    filter_horizontal = ["leads", "quality_analysts"]

    @admin.display(description=_("agents"))
    def agent_count(self, team: Team) -> int:
        return team.agents.count()


class AgentExternalIdInline(admin.TabularInline):
    model = AgentExternalId
    extra = 1


class TeamMembershipInline(admin.TabularInline):
    """An agent's team history: written only by moving the agent (the team field with its
    effective date), so it reads here and is never edited."""

    model = TeamMembership
    fields = ["team", "starts_on", "ends_on", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-starts_on"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class AgentAdminForm(forms.ModelForm):
    """Changing an agent's team is a move: it needs the day it takes effect, checked by the
    same rules as the move service (agent_move_check)."""

    moved_on = forms.DateField(
        required=False,
        label=_("Team change effective on"),
        widget=NativeDateInput(),
    )

    class Meta:
        model = Agent
        fields = ["user", "team", "active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        team = cleaned.get("team")
        before = self.instance_before_edit
        if before is None or team is None or team.pk == before.team_id:
            return cleaned
        moved_on = cleaned.get("moved_on")
        if moved_on is None:
            self.add_error(
                "moved_on", _("Say from which day the agent is in team %(team)s.") % {"team": team}
            )
            return cleaned
        try:
            agent_move_check(agent=before, team=team, effective_on=moved_on)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error("moved_on" if field == "effective_on" else field, messages)
        return cleaned

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "moved_on" in self.fields:
            self.fields["moved_on"].help_text = _(
                "Only when changing the team: the first day in the new team (today or up to "
                "%(days)s days back). Periods before it stay judged in the old team."
            ) % {"days": MOVE_BACKDATE_DAYS}
        # The model form writes the new team onto the instance while cleaning: keep the
        # agent as stored, for the checks and the move.
        self.instance_before_edit = (
            Agent.objects.select_related("user", "team").get(pk=self.instance.pk)
            if self.instance.pk
            else None
        )


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
    form = AgentAdminForm
    inlines = [TeamMembershipInline, AgentExternalIdInline]

    def get_fields(self, request: HttpRequest, obj: Agent | None = None) -> list[str]:
        if obj is None:
            return ["user", "team", "active"]
        return ["user", "team", "moved_on", "active"]

    def save_model(self, request: HttpRequest, obj: Agent, form: AgentAdminForm, change: bool):
        if not change:
            super().save_model(request, obj, form, change)
            agent_membership_open(agent=obj, created_by=request.user)
            return
        before = form.instance_before_edit
        new_team = obj.team
        # Agent.team is written by the move service only.
        obj.team = before.team
        super().save_model(request, obj, form, change)
        if new_team.pk != before.team_id:
            agent_move_team(
                agent=obj,
                team=new_team,
                effective_on=form.cleaned_data["moved_on"],
                moved_by=request.user,
            )
            self.message_user(
                request,
                _(
                    "%(agent)s moved to team %(team)s from %(day)s; their periods from then on "
                    "are being scored again."
                )
                % {
                    "agent": obj.display_name,
                    "team": new_team.name,
                    "day": date_format(form.cleaned_data["moved_on"]),
                },
            )

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
