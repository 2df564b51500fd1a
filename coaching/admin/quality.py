"""QA forms in admin: a form with its sections inline, each section's items on its own page,
a preview as analysts will see it, the versions reviews were scored on and the reviews
(read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from coaching.admin.flags import ReadOnly
from coaching.models import (
    QAAnswer,
    QAAssignment,
    QACalibration,
    QADispute,
    QAForm,
    QAFormVersion,
    QAItem,
    QAPlan,
    QAPlanChannel,
    QAReview,
    QASection,
)


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
    list_display = [
        "name",
        "kind",
        "channel",
        "active",
        "dispute_days",
        "dispute_rounds",
        "preview",
    ]
    list_filter = ["active", "kind", "channel"]
    fields = [
        ("name", "kind", "channel", "active"),
        "description",
        ("dispute_days", "dispute_rounds"),
        ("training_misses", "training_window", "training_auto_assign"),
        "preview",
    ]
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
        "training_modules",
    ]
    extra = 1


@admin.register(QASection)
class QASectionAdmin(admin.ModelAdmin):
    list_display = ["title", "form", "position"]
    list_filter = ["form"]
    inlines = [QAItemInline]


class QAAnswerInline(ReadOnly, admin.TabularInline):
    model = QAAnswer
    fields = ["key", "answer", "comment"]
    readonly_fields = fields
    extra = 0


class QADisputeInline(ReadOnly, admin.TabularInline):
    model = QADispute
    fields = [
        "round",
        "status",
        "items",
        "comment",
        "opened_at",
        "decided_by",
        "decided_at",
        "reason",
        "score_before",
        "score_after",
    ]
    readonly_fields = fields
    extra = 0


@admin.register(QADispute)
class QADisputeAdmin(ReadOnly, admin.ModelAdmin):
    """Disputes are opened by agents and decided on the review pages: read-only here."""

    list_display = ["review", "round", "status", "opened_at", "decided_by", "decided_at"]
    list_filter = ["status", "review__version__form", "review__agent__team"]
    search_fields = ["review__interaction__external_id", "review__agent__user__username"]
    list_select_related = ["review__version__form", "decided_by"]


@admin.register(QAReview)
class QAReviewAdmin(ReadOnly, admin.ModelAdmin):
    """Reviews are made on the review pages, by their reviewers: read-only history here."""

    list_display = [
        "interaction",
        "agent",
        "version",
        "reviewer",
        "status",
        "score",
        "finished_at",
        "acknowledged_at",
    ]
    list_filter = ["status", "version__form", "agent__team"]
    search_fields = ["interaction__external_id", "interaction__case_id", "agent__user__username"]
    list_select_related = ["interaction", "agent__user", "version__form", "reviewer"]
    inlines = [QAAnswerInline, QADisputeInline]


class QAPlanChannelInline(admin.TabularInline):
    model = QAPlanChannel
    fields = ["channel", "per_agent"]
    extra = 1


@admin.register(QAPlan)
class QAPlanAdmin(admin.ModelAdmin):
    """Review plans: each closed period, so many interactions per agent and channel, drawn at
    random by the nightly beat and assigned to the analysts."""

    list_display = ["name", "period", "due_days", "active"]
    list_filter = ["active", "period"]
    filter_horizontal = ["teams", "analysts"]
    inlines = [QAPlanChannelInline]


@admin.register(QAAssignment)
class QAAssignmentAdmin(ReadOnly, admin.ModelAdmin):
    """Drawn by the plans: read-only here."""

    list_display = ["plan", "period_start", "agent", "channel", "analyst", "due_on", "review"]
    list_filter = ["plan", "period_start", "channel"]
    list_select_related = ["plan", "agent__user", "analyst", "review"]
    search_fields = ["interaction__external_id", "agent__user__username"]


@admin.register(QACalibration)
class QACalibrationAdmin(ReadOnly, admin.ModelAdmin):
    """Calibration sessions are run on their pages: read-only here."""

    list_display = ["title", "version", "facilitator", "status", "created_at", "closed_at"]
    list_filter = ["status", "version__form"]
    list_select_related = ["version__form", "facilitator"]
    search_fields = ["title", "interaction__external_id"]
