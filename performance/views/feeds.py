"""Feed pages: upload, batch list, batch report with its rejected rows, re-processing."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from performance.access import (
    batch_for_reprocess_or_404,
    batch_for_user_or_404,
    batches_visible_to,
    can_upload_feeds,
    may_reprocess,
)
from performance.feeds import FIELDS
from performance.forms import BatchFilterForm, FeedUploadForm
from performance.models import FeedBatch
from performance.services.ingest import (
    feed_batch_queue,
    feed_batch_receive,
    feed_batch_requeue,
    feed_batch_resume,
)
from performance.views.common import htmx_swap

BATCHES_PER_PAGE = 50
REJECTED_PER_PAGE = 100


def feed_workers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Feed pages are for team leads and admins; an agent gets 403, not a login loop."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_upload_feeds(request.user):
            raise PermissionDenied(gettext("Only team leads and admins work with feeds."))
        return view(request, *args, **kwargs)

    return wrapped


@login_required
@require_http_methods(["GET", "POST"])
@feed_workers_only
def feed_upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = FeedUploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            batch = feed_batch_receive(
                source=form.cleaned_data["source"],
                stream=upload,
                original_name=upload.name,
                format=form.cleaned_data["format"] or None,
                via=FeedBatch.Via.UPLOAD,
                uploaded_by=request.user,
            )
            feed_batch_queue(batch=batch)
            return redirect("feed-batch", batch_id=batch.id)
    else:
        form = FeedUploadForm(user=request.user)
    return render(
        request,
        "performance/upload.html",
        {
            "form": form,
            "max_bytes": settings.FEED_MAX_BYTES,
            "required_fields": [
                field for field in FIELDS if field.required_for_new or field.name == "external_id"
            ],
            "optional_fields": [
                field
                for field in FIELDS
                if not field.required_for_new and field.name != "external_id"
            ],
        },
    )


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
@feed_workers_only
def batch_list(request: HttpRequest) -> HttpResponse:
    form = BatchFilterForm(request.GET, user=request.user)
    batches = Paginator(form.filter(batches_visible_to(request.user)), BATCHES_PER_PAGE)
    context = {
        "form": form,
        "page": batches.get_page(request.GET.get("page")),
        "query": _query_without_page(request),
    }
    if htmx_swap(request) and request.htmx.target == "batches":
        return render(request, "performance/batch_list.html#batches", context)
    return render(request, "performance/batch_list.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
@feed_workers_only
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = batch_for_user_or_404(request.user, batch_id)
    # Rejected rows are read only once the batch is finished: a poll stays a few queries.
    context = {
        "batch": batch,
        "rejected": _rejected_page(batch, request.GET.get("page")) if batch.is_finished else None,
        # The button shows only on a finished batch: a poll does not ask.
        "may_reprocess": batch.is_finished and may_reprocess(request.user, batch),
    }
    if htmx_swap(request) and request.htmx.target == "report":
        return render(request, "performance/batch_detail.html#report", context)
    if htmx_swap(request):
        # The poll that sees the batch finish also swaps the report in, out of band.
        context["report_oob"] = batch.is_finished
        return render(request, "performance/batch_detail.html#progress", context)
    return render(request, "performance/batch_detail.html", context)


@login_required
@require_GET
@feed_workers_only
def batch_rejected_csv(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    batch = batch_for_user_or_404(request.user, batch_id)
    rows = (
        (error.line, error.field, error.reason_text, error.raw)
        for error in batch.row_errors.order_by("line", "id")
        .only("line", "field", "reason", "reason_message", "raw")
        .iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.id}-rejected.csv"'
    return response


@login_required
@require_POST
@feed_workers_only
def batch_reprocess(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = batch_for_reprocess_or_404(request.user, batch_id)
    if feed_batch_requeue(batch_id=batch.id):
        messages.success(
            request, gettext("Batch %(id)s was queued to be processed again.") % {"id": batch.id}
        )
    elif feed_batch_resume(batch_id=batch.id):
        messages.success(
            request,
            gettext("Batch %(id)s was queued to resume after the last chunk it applied.")
            % {"id": batch.id},
        )
    else:
        messages.warning(
            request,
            gettext(
                "Batch %(id)s cannot be re-processed now: it is already waiting or running, "
                "or its file was never accepted."
            )
            % {"id": batch.id},
        )
    return redirect("feed-batch", batch_id=batch.id)


def _rejected_page(batch: FeedBatch, number: str | None) -> Page:
    return Paginator(batch.row_errors.all(), REJECTED_PER_PAGE).get_page(number)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark lets spreadsheet software read accented text as UTF-8.
    yield "\ufeff" + writer.writerow(["line", "field", "reason", "raw"])
    for row in rows:
        yield writer.writerow([_inert(cell) for cell in row])


# What makes a spreadsheet read a cell as a formula (or run one) when it opens a CSV file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell: Any) -> Any:
    """A cell a spreadsheet shows as text: a leading quote before what would start a
    formula (the file's own text is uploaded by people outside the company)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
