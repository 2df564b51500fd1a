"""The feed API: systems push KPI files; systems and people follow the batches they sent.

One class per operation, each beside its small input/output serializers. The body of an upload
is streamed to `feed_batch_receive` untouched (never parsed into memory here); processing runs
in the Celery task.
"""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.urls import reverse
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser, DataAndFiles, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from performance.access import batch_for_source_or_404, batch_for_user_or_404
from performance.api.authentication import (
    FeedTokenAuthentication,
    IsFeedSourceOfSlug,
    IsPersonOrFeedSource,
    feed_source_of,
)
from performance.feeds import format_of_name
from performance.models import FeedBatch, FeedSource
from performance.services.ingest import batch_report, feed_batch_queue, feed_batch_receive


class FeedBatchUploadQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=FeedSource.Format.choices,
        required=False,
        help_text="Overrides the format implied by the content type and the source's default.",
    )
    name = serializers.CharField(
        required=False,
        max_length=255,
        help_text="The file's original name, kept with the batch (raw bodies only; "
        "a Content-Disposition filename works too).",
    )


class FeedBatchUploadMultipartSerializer(serializers.Serializer):
    """The multipart request body (documentation only: the file is streamed, not validated)."""

    file = serializers.FileField(help_text="The feed file (CSV, JSON Lines or .xlsx).")


class FeedBatchAcceptedSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    status = serializers.ChoiceField(choices=FeedBatch.Status.choices)
    status_url = serializers.URLField()


class FeedBatchRejectedSerializer(FeedBatchAcceptedSerializer):
    error = serializers.CharField(help_text="Why the file was refused as a whole.")


class FeedRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line in the file (the header is line 1 in CSV).")
    field = serializers.CharField(help_text="Canonical field, or empty for the whole row.")
    reason = serializers.CharField(help_text="In the request's language.")


class FeedBatchTimingsSerializer(serializers.Serializer):
    received_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)


class FeedBatchStatusSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    source = serializers.CharField(help_text="The feed source's slug.")
    status = serializers.ChoiceField(choices=FeedBatch.Status.choices)
    progress_percent = serializers.IntegerField(min_value=0, max_value=100)
    error = serializers.CharField(help_text="Why the file failed as a whole (empty if it did not).")
    format = serializers.ChoiceField(choices=FeedSource.Format.choices)
    encoding = serializers.CharField(
        help_text="The encoding the file's text was read in (empty for a workbook)."
    )
    via = serializers.ChoiceField(choices=FeedBatch.Via.choices)
    original_name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    checksum_sha256 = serializers.CharField()
    rows = serializers.IntegerField(help_text="Rows read so far.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    timings = FeedBatchTimingsSerializer()
    errors = FeedRowErrorSerializer(many=True, help_text="The first row errors, in line order.")
    errors_total = serializers.IntegerField(help_text="All row errors of the batch.")
    errors_url = serializers.URLField(help_text="The full, paginated list of row errors.")
    status_url = serializers.URLField()


STATUS_ERROR_LIMIT = 100

CSV, JSONL = FeedSource.Format.CSV.value, FeedSource.Format.JSONL.value
XLSX = FeedSource.Format.XLSX.value
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMAT_FOR_MEDIA_TYPE = {
    "text/csv": CSV,
    "application/csv": CSV,
    "application/x-ndjson": JSONL,
    "application/jsonl": JSONL,
    "application/jsonlines": JSONL,
    XLSX_MEDIA_TYPE: XLSX,
}
SUPPORTED_BODIES = (
    f"text/csv, application/x-ndjson, application/jsonl or {XLSX_MEDIA_TYPE} as the raw body, "
    'or multipart/form-data with the file in a "file" field '
    "(application/octet-stream is read in the source's default format)"
)


# --- parsing the body: hand the stream on, unread ------------------------------------------


class FeedBodyParser(BaseParser):
    """A feed file sent as the raw request body: passed on as a stream, never buffered."""

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles:
        return DataAndFiles({}, {"file": stream})


class CsvBodyParser(FeedBodyParser):
    media_type = "text/csv"


class NdjsonBodyParser(FeedBodyParser):
    media_type = "application/x-ndjson"


class JsonlBodyParser(FeedBodyParser):
    media_type = "application/jsonl"


class XlsxBodyParser(FeedBodyParser):
    media_type = XLSX_MEDIA_TYPE


class OctetStreamBodyParser(FeedBodyParser):
    media_type = "application/octet-stream"


class FeedFormatQueryNegotiation(DefaultContentNegotiation):
    """`?format=` names the uploaded file's format here, not the response's: always JSON."""

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return super().select_renderer(request, renderers, format_suffix="json")


def _uploaded_name(request: Request, upload: Any, query_name: str | None) -> str:
    if query_name:
        return query_name
    if getattr(upload, "name", None):  # a multipart part; a raw body has no name
        return PurePath(str(upload.name)).name
    disposition = request.headers.get("Content-Disposition", "")
    if disposition:
        _, params = parse_header_parameters(disposition)
        return PurePath(params.get("filename", "")).name
    return ""


def _uploaded_format(request: Request, upload: Any, name: str) -> str | None:
    """The format a request's content type or file name implies; None means the default."""
    media_type, _ = parse_header_parameters(request.content_type or "")
    if media_type == "multipart/form-data":
        part_type, _ = parse_header_parameters(getattr(upload, "content_type", "") or "")
        media_type = part_type
    if media_type in FORMAT_FOR_MEDIA_TYPE:
        return FORMAT_FOR_MEDIA_TYPE[media_type]
    return format_of_name(name)


def _status_url(request: Request, batch: FeedBatch) -> str:
    return request.build_absolute_uri(reverse("api-batch-detail", args=[batch.id]))


# --- operations ----------------------------------------------------------------------------


class FeedBatchUploadApi(APIView):
    authentication_classes = [FeedTokenAuthentication]
    permission_classes = [IsFeedSourceOfSlug]
    parser_classes = [
        CsvBodyParser,
        NdjsonBodyParser,
        JsonlBodyParser,
        XlsxBodyParser,
        OctetStreamBodyParser,
        MultiPartParser,
    ]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FeedFormatQueryNegotiation

    @extend_schema(
        operation_id="feed_batch_upload",
        summary="Send a feed file",
        description=(
            "Stores the file exactly as received and queues it for processing. Send it as "
            f"{SUPPORTED_BODIES}. The format comes from `?format=`, else the content type "
            "(or the part's content type / file extension in multipart), else the source's "
            "default. Poll the `status_url` (also the `Location` header) for the report. "
            "Re-sending the same rows changes nothing."
        ),
        parameters=[
            FeedBatchUploadQuerySerializer,
            OpenApiParameter(
                "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Feed source slug."
            ),
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                description="The batch's status URL.",
                response=[202],
            ),
        ],
        request={
            "text/csv": OpenApiTypes.BINARY,
            "application/x-ndjson": OpenApiTypes.BINARY,
            "application/jsonl": OpenApiTypes.BINARY,
            XLSX_MEDIA_TYPE: OpenApiTypes.BINARY,
            "application/octet-stream": OpenApiTypes.BINARY,
            "multipart/form-data": FeedBatchUploadMultipartSerializer,
        },
        responses={
            202: OpenApiResponse(FeedBatchAcceptedSerializer, "Received; processing is queued."),
            400: OpenApiResponse(description="A bad query parameter or multipart body."),
            401: OpenApiResponse(description="No token, or a wrong or rotated-out token."),
            403: OpenApiResponse(
                description="The token belongs to another source, or this source is inactive."
            ),
            404: OpenApiResponse(description="No feed source with this slug."),
            413: OpenApiResponse(
                FeedBatchRejectedSerializer, "Larger than FEED_MAX_BYTES; the batch is recorded."
            ),
            415: OpenApiResponse(description="An unsupported content type."),
            422: OpenApiResponse(
                FeedBatchRejectedSerializer,
                "Empty, not text in the source's encoding, or not a workbook; the batch is "
                "recorded as failed.",
            ),
        },
        tags=["feeds"],
    )
    def post(self, request: Request, slug: str) -> Response:
        query = FeedBatchUploadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if self.get_content_negotiator().select_parser(request, self.get_parsers()) is None:
            raise UnsupportedMediaType(
                request.content_type,
                detail=gettext('Unsupported media type "%(type)s": send %(bodies)s.')
                % {"type": request.content_type, "bodies": SUPPORTED_BODIES},
            )
        upload = request.FILES.get("file")
        if upload is None and request.content_type.startswith("multipart/"):
            return Response(
                {"file": [gettext('Send the feed file in a multipart field named "file".')]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        name = _uploaded_name(request, upload, query.validated_data.get("name"))
        feed_format = query.validated_data.get("format") or _uploaded_format(request, upload, name)
        source = feed_source_of(request)
        batch = feed_batch_receive(
            source=source,
            # An empty raw body reaches us as no stream at all: receive it as an empty file.
            stream=upload if upload is not None else io.BytesIO(),
            original_name=name,
            format=feed_format,
            via=FeedBatch.Via.API,
            # The token that authenticated this request (the source as read then).
            token_hash=source.token_hash,
        )
        status_url = _status_url(request, batch)
        if batch.status == FeedBatch.Status.FAILED:
            body = FeedBatchRejectedSerializer(
                {
                    "batch": batch.id,
                    "status": batch.status,
                    "status_url": status_url,
                    "error": batch.error_text,
                }
            ).data
            too_large = batch.size_bytes > settings.FEED_MAX_BYTES
            return Response(
                body,
                status=(
                    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
                    if too_large
                    else status.HTTP_422_UNPROCESSABLE_ENTITY
                ),
            )
        feed_batch_queue(batch=batch)
        # With eager Celery (no broker) the batch is already processed by now.
        batch.refresh_from_db(fields=["status"])
        body = FeedBatchAcceptedSerializer(
            {"batch": batch.id, "status": batch.status, "status_url": status_url}
        ).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})


def _batch_for_request_or_404(request: Request, batch_id: int) -> FeedBatch:
    source = feed_source_of(request)
    if source is not None:
        return batch_for_source_or_404(source, batch_id)
    return batch_for_user_or_404(request.user, batch_id)


BATCH_READ_RESPONSES = {
    401: OpenApiResponse(description="Not logged in and no valid token."),
    403: OpenApiResponse(description="The token's source is inactive."),
    404: OpenApiResponse(
        description="No such batch, or not one this very token sent (a rotated-in token does "
        "not read what the previous one sent), this lead uploaded, "
        "or (for agents) any batch at all."
    ),
}


class FeedBatchDetailApi(APIView):
    authentication_classes = [FeedTokenAuthentication, SessionAuthentication]
    permission_classes = [IsPersonOrFeedSource]

    @extend_schema(
        operation_id="feed_batch_status",
        summary="A batch's status and report",
        description=(
            "Status, progress, counts, timings and the first "
            f"{STATUS_ERROR_LIMIT} row errors. Readable with the token that sent it, "
            "by the lead who uploaded the batch, and by admins."
        ),
        responses={200: FeedBatchStatusSerializer, **BATCH_READ_RESPONSES},
        tags=["feeds"],
    )
    def get(self, request: Request, batch_id: int) -> Response:
        batch = _batch_for_request_or_404(request, batch_id)
        report = batch_report(batch, error_limit=STATUS_ERROR_LIMIT)
        body = FeedBatchStatusSerializer(
            {
                **report,
                "progress_percent": batch.progress_percent,
                "via": batch.via,
                "original_name": batch.original_name,
                "size_bytes": batch.size_bytes,
                "timings": {
                    "received_at": batch.received_at,
                    "started_at": batch.started_at,
                    "finished_at": batch.finished_at,
                    "duration_seconds": batch.duration_seconds,
                },
                "errors_total": (
                    len(report["errors"])
                    if len(report["errors"]) < STATUS_ERROR_LIMIT
                    else batch.row_errors.count()
                ),
                "errors_url": request.build_absolute_uri(
                    reverse("api-batch-errors", args=[batch.id])
                ),
                "status_url": _status_url(request, batch),
            }
        ).data
        return Response(body)


class FeedRowErrorPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class FeedBatchErrorsApi(APIView):
    authentication_classes = [FeedTokenAuthentication, SessionAuthentication]
    permission_classes = [IsPersonOrFeedSource]
    pagination_class = FeedRowErrorPagination

    @extend_schema(
        operation_id="feed_batch_errors",
        summary="All row errors of a batch",
        description="Every rejected row's problems, in line order, paginated (`?page=`).",
        responses={200: FeedRowErrorSerializer(many=True), **BATCH_READ_RESPONSES},
        tags=["feeds"],
    )
    def get(self, request: Request, batch_id: int) -> Response:
        batch = _batch_for_request_or_404(request, batch_id)
        errors = batch.row_errors.order_by("line", "id").only(
            "line", "field", "reason", "reason_message"
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(errors, request, view=self)
        rows = [{"line": e.line, "field": e.field, "reason": e.reason_text} for e in page]
        return paginator.get_paginated_response(FeedRowErrorSerializer(rows, many=True).data)
