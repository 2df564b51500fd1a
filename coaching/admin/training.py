"""Training in admin: modules with their lessons and questions inline (a question's choices
on its own page) and a preview as agents read them; assignments and attempts read-only."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from coaching.admin.flags import ReadOnly
from coaching.models import (
    Choice,
    Lesson,
    Question,
    QuizAttempt,
    TrainingAssignment,
    TrainingModule,
)


class LessonInline(admin.StackedInline):
    model = Lesson
    fields = ["position", "title", "body"]
    extra = 0


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ["position", "text"]
    show_change_link = True
    extra = 0


@admin.register(TrainingModule)
class TrainingModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "estimated_minutes", "pass_mark", "points", "active", "preview"]
    list_filter = ["active", "standards"]
    search_fields = ["title", "summary"]
    filter_horizontal = ["standards"]
    inlines = [LessonInline, QuestionInline]

    @admin.display(description=_("preview"))
    def preview(self, module: TrainingModule) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("coaching:module-preview", args=[module.pk]),
            _("Preview"),
        )


class ChoiceInline(admin.TabularInline):
    model = Choice
    fields = ["text", "correct"]
    extra = 3


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "module", "position"]
    list_filter = ["module"]
    inlines = [ChoiceInline]


class QuizAttemptInline(ReadOnly, admin.TabularInline):
    model = QuizAttempt
    fields = ["number", "score", "passed", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(TrainingAssignment)
class TrainingAssignmentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["module", "agent", "status", "progress", "due_on", "assigned_by", "flag"]
    list_filter = ["status", "module", "agent__team"]
    search_fields = ["agent__user__username", "agent__user__first_name", "module__title"]
    list_select_related = ["module", "agent__user", "assigned_by", "flag"]
    inlines = [QuizAttemptInline]
