"""Coaching flags in admin: read-only history (the rule derives them; leads close them on
the coaching pages), filterable by status, origin, team and standard."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from coaching.models import CoachingFlag, FlagEvidence, FlagRequest


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class FlagEvidenceInline(ReadOnly, admin.TabularInline):
    model = FlagEvidence
    fields = ["period_start", "period_end", "value", "target", "evaluation"]
    readonly_fields = fields
    extra = 0


@admin.register(CoachingFlag)
class CoachingFlagAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "agent",
        "standard",
        "status",
        "origin",
        "opened_on",
        "missed_periods",
        "resolved_on",
        "resolved_by",
        "evidence_corrected",
    ]
    list_filter = ["status", "origin", "evidence_corrected", "agent__team", "standard"]
    search_fields = ["agent__user__username", "agent__user__first_name", "note", "reason"]
    date_hierarchy = "opened_on"
    list_select_related = ["agent__user", "standard", "resolved_by"]
    inlines = [FlagEvidenceInline]


@admin.register(FlagRequest)
class FlagRequestAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["id", "change_id", "created_at", "done_at"]
    list_filter = ["done_at"]
