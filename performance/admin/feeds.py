"""Admin for feeds: sources (token rotation), batches with their rejected rows, and the facts
(read-only)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from performance.admin.base import ReadOnlyAdmin
from performance.feeds import FIELD_BY_NAME, FIELDS, Kind, Unit
from performance.feeds.schema import UNIT_LABELS
from performance.models import (
    FeedBatch,
    FeedRowError,
    FeedSource,
    Interaction,
)
from performance.services.ingest import feed_batch_requeue, feed_batch_resume
from performance.services.ingest.mapping import (
    feed_sample_preview,
    feed_source_set_reading,
    sample_format,
)
from performance.services.tokens import feed_source_rotate_token


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "format",
        "encoding",
        "date_order",
        "agent_match",
        "time_zone",
        "token_hint",
        "active",
    ]
    list_filter = ["format", "active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["token_hint", "token_rotated_at"]
    filter_horizontal = ["upload_teams"]
    actions = ["rotate_token"]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:source_id>/mapping/",
                self.admin_site.admin_view(self.mapping_view),
                name="performance_feedsource_mapping",
            ),
            *super().get_urls(),
        ]

    def mapping_view(self, request: HttpRequest, source_id: int) -> HttpResponse:
        """Map a sample export's columns, see its first rows as Atendo reads them, save."""
        source = get_object_or_404(FeedSource, pk=source_id)
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "source": source,
            "title": gettext("Map a sample file: %(source)s") % {"source": source.name},
            "upload": SampleUploadForm(),
        }
        if request.method != "POST":
            return render(request, MAPPING_TEMPLATE, context)
        if "sample_file" in request.FILES:
            upload = SampleUploadForm(request.POST, request.FILES)
            if not upload.is_valid():
                return render(request, MAPPING_TEMPLATE, {**context, "upload": upload})
            sample = upload.cleaned_data["sample_file"]
            data = {
                "sample": base64.b64encode(upload.sample_bytes).decode(),
                "name": sample.name,
            }
            form = SampleMappingForm(source=source, initial_from=data)
        else:
            form = SampleMappingForm(request.POST, source=source)
        if form.sample is None:
            messages.error(request, gettext("The sample was lost; upload it again."))
            return render(request, MAPPING_TEMPLATE, context)
        preview = form.preview()
        if form.is_bound and form.is_valid() and "save" in request.POST:
            if preview.error is None:
                feed_source_set_reading(source=source, **form.reading())
                messages.success(
                    request,
                    gettext("The mapping of %(source)s was saved.") % {"source": source.name},
                )
                return redirect(reverse("admin:performance_feedsource_change", args=[source.id]))
            form.add_error(None, gettext("Fix the problem with the file before saving."))
        return render(
            request,
            MAPPING_TEMPLATE,
            {**context, "form": form, "preview": preview, "columns": form.column_rows()},
        )

    @admin.action(description=_("Rotate API token (the old token stops working)"))
    def rotate_token(
        self, request: HttpRequest, queryset: QuerySet[FeedSource]
    ) -> TemplateResponse:
        # The tokens live only in this response: a message would carry them in a cookie or
        # the session, and a cached page would show them again.
        rotated = [(source, feed_source_rotate_token(source=source)) for source in queryset]
        response = TemplateResponse(
            request,
            ROTATED_TOKENS_TEMPLATE,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": gettext("New API tokens"),
                "rotated": rotated,
            },
        )
        add_never_cache_headers(response)
        return response


MAPPING_TEMPLATE = "admin/performance/feedsource/mapping.html"
ROTATED_TOKENS_TEMPLATE = "admin/performance/feedsource/rotated_tokens.html"
SAMPLE_MAX_BYTES = 2 * 1024 * 1024
FIELD_CHOICES = [("", _("(not used)")), *((f.name, f"{f.name}: {f.label}") for f in FIELDS)]


class SampleUploadForm(forms.Form):
    sample_file = forms.FileField(
        label=_("Sample file"),
        help_text=_("CSV, JSON Lines or .xlsx, as the system exports it; the first rows suffice."),
    )

    def clean_sample_file(self) -> Any:
        upload = self.cleaned_data["sample_file"]
        data = upload.read(SAMPLE_MAX_BYTES + 1)
        if len(data) > SAMPLE_MAX_BYTES:
            raise ValidationError(
                _("A sample of at most %(size)s MB, please: its first rows are enough."),
                params={"size": SAMPLE_MAX_BYTES // (1024 * 1024)},
            )
        self.sample_bytes = data
        return upload


def _value_map_text(words: dict[str, Any]) -> str:
    return "; ".join(f"{word}={value}" for word, value in words.items())


def _parse_value_map(text: str) -> dict[str, str]:
    words: dict[str, str] = {}
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        word, equals, value = part.partition("=")
        if not equals or not word.strip() or not value.strip():
            raise ValidationError(
                _("Write word=value pairs separated by ';', e.g. Bom=5; Ruim=1 (got %(part)s)."),
                params={"part": part.strip()},
            )
        words[word.strip()] = value.strip()
    return words


class SampleMappingForm(forms.Form):
    """The sample travels with the form (it is never stored): a field, a unit and a value map
    per column it has, and the source's encoding and date order."""

    sample = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(widget=forms.HiddenInput, required=False)
    encoding = forms.ChoiceField(label=_("Encoding"), choices=FeedSource.Encoding.choices)
    date_order = forms.ChoiceField(label=_("Date order"), choices=FeedSource.DateOrder.choices)

    def __init__(
        self, *args: Any, source: FeedSource, initial_from: dict[str, str] | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        data = initial_from or self.data
        try:
            self.sample: bytes | None = base64.b64decode(data.get("sample", ""), validate=True)
        except (binascii.Error, ValueError):
            self.sample = None
        if not self.sample:
            self.sample = None
            return
        self.format = sample_format(data.get("name", ""), source)
        first = feed_sample_preview(source=source, sample=self.sample, format=self.format)
        self.headings = first.headings
        options = source.column_options or {}
        for index, (heading, guess) in enumerate(zip(first.headings, first.guesses, strict=True)):
            option = options.get(guess or "", {})
            self.fields[f"field_{index}"] = forms.ChoiceField(
                label=heading, choices=FIELD_CHOICES, required=False, initial=guess or ""
            )
            self.fields[f"unit_{index}"] = forms.ChoiceField(
                label=_("Unit"),
                choices=[(unit.value, UNIT_LABELS[unit]) for unit in Unit],
                initial=option.get("unit") or Unit.SECONDS.value,
            )
            self.fields[f"values_{index}"] = forms.CharField(
                label=_("Value map"),
                required=False,
                initial=_value_map_text(option.get("values") or {}),
                widget=forms.TextInput(attrs={"placeholder": "Bom=5; Ruim=1", "size": 30}),
            )
        if initial_from is not None:
            self.initial.update(
                {
                    "sample": initial_from["sample"],
                    "name": initial_from["name"],
                    "encoding": source.encoding,
                    "date_order": source.date_order,
                }
            )
        self.first = first

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        mapping: dict[str, str] = {}
        options: dict[str, dict[str, Any]] = {}
        for index, heading in enumerate(self.headings):
            name = cleaned.get(f"field_{index}") or ""
            mapping[heading] = name
            if not name:
                continue
            option: dict[str, Any] = {}
            unit = cleaned.get(f"unit_{index}")
            if FIELD_BY_NAME[name].kind == Kind.DURATION and unit and unit != Unit.SECONDS:
                option["unit"] = unit
            try:
                words = _parse_value_map(cleaned.get(f"values_{index}") or "")
            except ValidationError as exc:
                self.add_error(f"values_{index}", exc)
                continue
            if words:
                option["values"] = words
            if option:
                options[name] = option
        cleaned["column_mapping"] = mapping
        cleaned["column_options"] = options
        candidate = FeedSource(
            column_mapping=mapping,
            column_options=options,
            create_unknown_agents=False,
        )
        try:
            candidate.clean()
        except ValidationError as exc:
            for message in exc.message_dict.get("column_options", []):
                self.add_error(None, message)
        return cleaned

    def reading(self) -> dict[str, Any]:
        return {
            "column_mapping": self.cleaned_data["column_mapping"],
            "column_options": self.cleaned_data["column_options"],
            "encoding": self.cleaned_data["encoding"],
            "date_order": self.cleaned_data["date_order"],
        }

    def preview(self) -> Any:
        """The first rows as read with the chosen mapping (guesses before any choice)."""
        if self.is_bound and self.is_valid():
            return feed_sample_preview(
                source=self.source, sample=self.sample, format=self.format, **self.reading()
            )
        mapping = {
            heading: guess or ""
            for heading, guess in zip(self.first.headings, self.first.guesses, strict=True)
        }
        return feed_sample_preview(
            source=self.source,
            sample=self.sample,
            format=self.format,
            column_mapping=mapping,
            encoding=self.data.get("encoding") or None,
            date_order=self.data.get("date_order") or None,
        )

    def column_rows(self) -> list[tuple[Any, Any, Any]]:
        return [
            (self[f"field_{i}"], self[f"unit_{i}"], self[f"values_{i}"])
            for i in range(len(self.headings))
        ]


class FeedRowErrorInline(admin.TabularInline):
    model = FeedRowError
    fields = ["line", "field", "reason_text", "raw"]
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
        "shown_status",
        "via",
        "original_name",
        "encoding",
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

    @admin.display(description=_("status"), ordering="status")
    def shown_status(self, batch: FeedBatch) -> str:
        return batch.status_label

    @admin.action(description=_("Re-process the selected batches"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[FeedBatch]) -> None:
        """Through the same services as the batch page: finished batches go back to the queue
        from the top, stalled ones resume after their last applied chunk; each one selected is
        reported as queued, resumed or as why it was left alone."""
        outcomes: dict[str, list[int]] = {
            "queued": [],
            "resumed": [],
            "waiting": [],
            "running": [],
            "empty": [],
        }
        for batch_id in queryset.order_by("id").values_list("id", flat=True):
            if feed_batch_requeue(batch_id=batch_id):
                outcomes["queued"].append(batch_id)
                continue
            if feed_batch_resume(batch_id=batch_id):
                outcomes["resumed"].append(batch_id)
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
            "resumed": (
                messages.SUCCESS,
                gettext(
                    "Stalled (their run died), queued to resume after the last chunk each "
                    "applied: %(ids)s."
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
        "mystery_score",
    ]
    list_filter = ["channel", "source"]
    list_select_related = ["source", "agent__user"]
    search_fields = ["=external_id", "=case_id", "agent__user__username", "agent__user__email"]
    show_full_result_count = False
    ordering = ["-id"]  # the primary key index; the facts table has no index on started_at
