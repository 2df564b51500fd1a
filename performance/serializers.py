"""Small input/output serializers of the feed API: shapes only, no behaviour."""

from __future__ import annotations

from rest_framework import serializers

from performance.models import FeedBatch, FeedSource


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

    file = serializers.FileField(help_text="The feed file (CSV or JSON Lines).")


class FeedBatchAcceptedSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    status = serializers.ChoiceField(choices=FeedBatch.Status.choices)
    status_url = serializers.URLField()


class FeedBatchRejectedSerializer(FeedBatchAcceptedSerializer):
    error = serializers.CharField(help_text="Why the file was refused as a whole.")


class FeedRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line in the file (the header is line 1 in CSV).")
    field = serializers.CharField(help_text="Canonical field, or empty for the whole row.")
    reason = serializers.CharField()


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
