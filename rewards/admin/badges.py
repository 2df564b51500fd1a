from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rewards.admin.ledger import ReadOnlyAdmin
from rewards.models import AgentBadge, Badge
from rewards.services.badges import badge_save


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ["name", "criterion", "threshold", "standard", "points", "repeat", "active"]
    list_editable = ["active"]
    list_filter = ["criterion", "repeat", "active"]
    search_fields = ["name", "description"]
    fieldsets = [
        (None, {"fields": ["name", "description", "icon", "position", "active"]}),
        (
            _("What earns it"),
            {"fields": ["criterion", "threshold", "standard", "leaderboard", "repeat", "points"]},
        ),
    ]

    def save_model(self, request: HttpRequest, obj: Badge, form, change: bool) -> None:
        badge_save(badge=obj)
        messages.info(
            request,
            gettext(
                "Agents' badges and their points follow at the next reconciliation, "
                "started now in the background."
            ),
        )


@admin.register(AgentBadge)
class AgentBadgeAdmin(ReadOnlyAdmin):
    list_display = ["agent", "badge", "earned_on", "evidence"]
    list_filter = ["badge"]
    search_fields = ["agent__user__username", "agent__user__first_name", "badge__name"]
    date_hierarchy = "earned_on"
    list_select_related = ["agent__user", "badge"]
