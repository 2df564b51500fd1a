from __future__ import annotations

from django.contrib import admin

from rewards.admin.ledger import ReadOnlyAdmin
from rewards.models import Leaderboard, PointsTotal


@admin.register(Leaderboard)
class LeaderboardAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "scope",
        "channel",
        "ranks",
        "default_window",
        "privacy",
        "top_n",
        "on_wallboard",
        "position",
        "active",
    ]
    list_editable = ["position", "active", "on_wallboard"]
    list_filter = ["scope", "privacy", "active", "on_wallboard"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(PointsTotal)
class PointsTotalAdmin(ReadOnlyAdmin):
    list_display = ["agent", "span", "starts_on", "channel", "points"]
    list_filter = ["span", "channel"]
    list_select_related = ["agent__user"]
    search_fields = ["agent__user__username", "agent__user__first_name"]
