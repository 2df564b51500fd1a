"""Admin for feeds: sources (token rotation), batches with their rejected rows, and the facts
(read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext

from performance.admin.base import ReadOnlyAdmin
from performance.models import (
    FeedBatch,
    FeedRowError,
    FeedSource,
    Interaction,
)
from performance.services.ingest import feed_batch_requeue
from performance.services.tokens import feed_source_rotate_token


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "format", "agent_match", "time_zone", "token_hint", "active"]
    list_filter = ["format", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["token_hint", "token_rotated_at"]
    actions = ["rotate_token"]

    @admin.action(description="Rotate API token (the old token stops working)")
    def rotate_token(self, request: HttpRequest, queryset: QuerySet[FeedSource]) -> None:
        for source in queryset:
            token = feed_source_rotate_token(source=source)
            messages.warning(
                request,
                f"New API token for {source.slug}: {token} — copy it now, it is not shown again.",
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

    @admin.action(description="Re-process the selected batches")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[FeedBatch]) -> None:
        """Through the same service as the batch page: only finished batches go back to the
        queue; each one selected is reported as queued or as why it was left alone."""
        outcomes: dict[str, list[int]] = {"queued": [], "waiting": [], "running": [], "empty": []}
        for batch_id in queryset.order_by("id").values_list("id", flat=True):
            if feed_batch_requeue(batch_id=batch_id):
                outcomes["queued"].append(batch_id)
                continue
            # Read after the refusal: the page may have queued it a moment ago.
            batch_status = FeedBatch.objects.values_list("status", flat=True).get(pk=batch_id)
            if batch_status == FeedBatch.Status.RECEIVED:
                outcomes["waiting"].append(batch_id)
            elif batch_status == FeedBatch.Status.PROCESSING:
                outcomes["running"].append(batch_id)
            else:
                outcomes["empty"].append(batch_id)
        reports = {
            "queued": (
                messages.SUCCESS,
                gettext(
                    "Queued to be processed again (facts converge to the file's values): %(ids)s."
                ),
            ),
            "waiting": (
                messages.WARNING,
                gettext("Not queued, already waiting to be processed: %(ids)s."),
            ),
            "running": (
                messages.WARNING,
                gettext("Not queued, being processed now (re-process once finished): %(ids)s."),
            ),
            "empty": (
                messages.WARNING,
                gettext("Not queued, the file was refused on receipt (nothing to apply): %(ids)s."),
            ),
        }
        for outcome, batch_ids in outcomes.items():
            if batch_ids:
                level, message = reports[outcome]
                ids = ", ".join(gettext("batch %(id)s") % {"id": i} for i in batch_ids)
                self.message_user(request, message % {"ids": ids}, level)


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
