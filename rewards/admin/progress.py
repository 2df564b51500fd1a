from __future__ import annotations

from django.contrib import admin

from rewards.admin.ledger import ReadOnlyAdmin
from rewards.models import AgentStreak, Level, StreakBonus


@admin.register(StreakBonus)
class StreakBonusAdmin(admin.ModelAdmin):
    list_display = ["standard", "length", "points"]
    list_filter = ["standard"]


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ["name", "threshold"]


@admin.register(AgentStreak)
class AgentStreakAdmin(ReadOnlyAdmin):
    list_display = ["agent", "standard", "current", "best", "updated_at"]
    list_filter = ["standard"]
    list_select_related = ["agent__user", "standard"]
