from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from rewards.models import AgentBalance, PointsEntry, ReconcileRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "agent", "kind", "points", "earned_on", "reference", "note"]
    list_filter = ["kind", "agent__team"]
    search_fields = ["reference", "note", "agent__user__username", "agent__user__first_name"]
    date_hierarchy = "earned_on"
    list_select_related = ["agent__user"]


@admin.register(AgentBalance)
class AgentBalanceAdmin(ReadOnlyAdmin):
    list_display = ["agent", "lifetime", "spendable", "updated_at"]
    search_fields = ["agent__user__username", "agent__user__first_name"]
    list_select_related = ["agent__user"]


@admin.register(ReconcileRequest)
class ReconcileRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "change_id", "first_period_start", "last_period_start", "done_at"]
    list_filter = ["done_at"]
