"""Coaching sessions in admin: read-only history (leads run them on the coaching pages, so
every change notifies the agent and updates the invitation), with their action items."""

from __future__ import annotations

from django.contrib import admin

from coaching.admin.flags import ReadOnly
from coaching.models import ActionItem, CoachingSession


class ActionItemInline(ReadOnly, admin.TabularInline):
    model = ActionItem
    fields = ["description", "owner", "due_on", "done_at"]
    readonly_fields = fields
    extra = 0


@admin.register(CoachingSession)
class CoachingSessionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "scheduled_at",
        "agent",
        "coach",
        "status",
        "duration_minutes",
        "follow_up_on",
        "acknowledged_at",
    ]
    list_filter = ["status", "agent__team", "coach"]
    search_fields = ["agent__user__username", "agent__user__first_name", "notes", "agenda"]
    date_hierarchy = "scheduled_at"
    list_select_related = ["agent__user", "coach"]
    filter_horizontal = ["flags"]
    inlines = [ActionItemInline]
