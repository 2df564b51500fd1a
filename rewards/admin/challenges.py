from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from rewards.admin.ledger import ReadOnlyAdmin
from rewards.models import Challenge, ChallengePrize, ChallengeResult


class ChallengePrizeInline(admin.TabularInline):
    model = ChallengePrize
    extra = 1

    def has_change_permission(self, request: HttpRequest, obj: Challenge | None = None) -> bool:
        return obj is None or obj.finalized_at is None

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "measure", "metric", "starts_on", "ends_on", "finalized_at"]
    list_filter = ["kind", "measure", "teams"]
    search_fields = ["name"]
    filter_horizontal = ["teams"]
    inlines = [ChallengePrizeInline]
    readonly_fields = ["finalized_at", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Challenge | None = None) -> bool:
        """A final challenge is history: its results and prizes are paid."""
        return super().has_change_permission(request, obj) and (
            obj is None or obj.finalized_at is None
        )

    def save_model(self, request: HttpRequest, obj: Challenge, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ChallengeResult)
class ChallengeResultAdmin(ReadOnlyAdmin):
    list_display = [
        "challenge",
        "rank",
        "agent",
        "team",
        "value",
        "sample",
        "prize_points",
        "prize_badge",
    ]
    list_filter = ["challenge"]
    list_select_related = ["challenge", "agent__user", "team", "prize_badge"]
