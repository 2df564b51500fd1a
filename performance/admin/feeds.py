"""Admin for feeds: sources (token rotation), batches with their rejected rows, and the facts
(read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from performance.admin.base import ReadOnlyAdmin
from performance.models import (
    FeedBatch,
    FeedRowError,
    FeedSource,
    Interaction,
)
from performance.services.tokens import feed_source_rotate_token
from performance.tasks import process_feed_batch


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "format", "agent_match", "time_zone", "token_hint", "active"]
    list_filter = ["format", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["token_hint", "token_rotated_at"]
    actions = ["rotate_token"]

    @admin.action(description=_("Rotate API token (the old token stops working)"))
    def rotate_token(self, request: HttpRequest, queryset: QuerySet[FeedSource]) -> None:
        for source in queryset:
            token = feed_source_rotate_token(source=source)
            messages.warning(
                request,
                gettext(
                    "New API token for %(source)s: %(token)s — copy it now, it is not shown again."
                )
                % {"source": source.slug, "token": token},
            )


class FeedRowErrorInline(admin.TabularInline):
    model = FeedRowError
    fields = ["line", "field", "reason", "raw"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


@admin.register(FeedBatch)
class FeedBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "source",
        "status",
        "via",
        "original_name",
        "received_at",
        "rows_read",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
    ]
    list_filter = ["status", "via", "source"]
    list_select_related = ["source"]
    search_fields = ["original_name", "checksum_sha256"]
    date_hierarchy = "received_at"
    inlines = [FeedRowErrorInline]
    actions = ["reprocess"]

    @admin.action(description=_("Re-process the selected batches"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[FeedBatch]) -> None:
        for batch in queryset.exclude(stored_path=""):
            process_feed_batch.delay_on_commit(batch.id)
        messages.info(
            request, gettext("Re-processing queued; facts converge to the files' values.")
        )


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "source",
        "agent",
        "channel",
        "started_at",
        "handle_seconds",
        "csat",
        "nps",
        "qa_score",
    ]
    list_filter = ["channel", "source"]
    list_select_related = ["source", "agent__user"]
    search_fields = ["=external_id", "=case_id", "agent__user__username", "agent__user__email"]
    show_full_result_count = False
    ordering = ["-id"]  # the primary key index; the facts table has no index on started_at
