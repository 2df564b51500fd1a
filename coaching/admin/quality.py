"""QA forms in admin: a form with its sections inline, each section's items on its own page,
a preview as analysts will see it, and the versions reviews were scored on (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from coaching.admin.flags import ReadOnly
from coaching.models import QAForm, QAFormVersion, QAItem, QASection


class QASectionInline(admin.TabularInline):
    model = QASection
    fields = ["position", "title"]
    show_change_link = True
    extra = 1


class QAFormVersionInline(ReadOnly, admin.TabularInline):
    model = QAFormVersion
    fields = ["number", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(QAForm)
class QAFormAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "active", "preview"]
    list_filter = ["active", "channel"]
    search_fields = ["name", "description"]
    readonly_fields = ["preview"]
    inlines = [QASectionInline, QAFormVersionInline]

    @admin.display(description=_("preview"))
    def preview(self, form: QAForm) -> str:
        if form.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("coaching:qa-form-preview", args=[form.pk]), _("Preview")
        )


class QAItemInline(admin.StackedInline):
    model = QAItem
    fields = [
        ("position", "text"),
        ("kind", "scale_max", "weight"),
        ("critical", "bonus", "allows_na"),
        "guidance",
    ]
    extra = 1


@admin.register(QASection)
class QASectionAdmin(admin.ModelAdmin):
    list_display = ["title", "form", "position"]
    list_filter = ["form"]
    inlines = [QAItemInline]
