"""Ingesting KPI feeds: receive a file as-is, then apply its rows as facts.

Every entry point (CLI, API, upload page, demo seed) goes through `feed_batch_receive`
and `feed_batch_process`. Receiving stores the raw bytes with their checksum
(DESIGN invariant 1); processing reads the stored file in chunks and upserts facts keyed
by (source, external_id), so re-sending a file changes nothing (invariant 2)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from performance.feeds import (
    FeedFileError,
    FieldError,
    FieldParsers,
    Message,
    check_workbook,
    detect_encoding,
    format_of_name,
    open_feed,
    row_digest_key,
)
from performance.feeds.rows import column_options_from_json
from performance.models import Channel, FeedBatch, FeedRowError, FeedSource
from performance.services.ingest.agents import AgentDirectory
from performance.services.ingest.chunks import (
    ChunkApplier,
    cyclic_gc_paused,
    prepared_chunks,
    read_ahead,
)
from performance.services.ingest.fact_store import fact_store
from performance.services.ingest.scope import WriteScope
from performance.tasks import evaluate_feed_batch as evaluate_feed_batch_task
from performance.tasks import process_feed_batch as process_feed_batch_task

logger = logging.getLogger(__name__)

XLSX = FeedSource.Format.XLSX
# Far longer than processing a file of FEED_MAX_BYTES takes.
STALE_CLAIM = timedelta(hours=6)


def storage_root() -> Path:
    return Path(settings.FEED_STORAGE_DIR)


def batch_file_path(batch: FeedBatch) -> Path:
    return storage_root() / batch.stored_path


# Raw feeds hold agents' data: only the service's own user may read them, whatever the umask.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def _private_folders(relative: Path) -> None:
    """Create the storage root and each folder down to `relative`, tightening existing ones."""
    folder = storage_root()
    for part in (None, *relative.parts):
        if part is not None:
            folder = folder / part
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        # A folder the service does not own (a mounted volume) keeps its mode: its owner
        # decides who reads it, and receiving must not fail over it.
        with contextlib.suppress(PermissionError):
            os.chmod(folder, PRIVATE_DIR_MODE)


def _open_private(target: Path) -> IO[bytes]:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    os.fchmod(fd, PRIVATE_FILE_MODE)
    return os.fdopen(fd, "wb")


# --- receiving ---------------------------------------------------------------------------


def feed_batch_receive(
    *,
    source: FeedSource,
    stream: IO[bytes],
    original_name: str = "",
    format: str | None = None,
    via: str,
    uploaded_by: AbstractBaseUser | None = None,
    token_hash: str = "",
) -> FeedBatch:
    """Store a feed file exactly as received and open a batch for it.

    `token_hash` names the source's API token that sent it (the API), the one credential
    that reads the batch back besides the people who may see it.

    A file over FEED_MAX_BYTES, empty, not text in the source's encoding or not a workbook
    gives a FAILED batch with the reason; an accepted one is RECEIVED, with the encoding its
    text is read in, and ready for `feed_batch_process`.
    """
    feed_format = format or _format_of_name(original_name) or source.format
    received_on = timezone.now()
    relative = Path(source.slug) / f"{received_on:%Y/%m/%d}" / f"{uuid.uuid4().hex}.{feed_format}"
    target = storage_root() / relative
    _private_folders(relative.parent)
    digest = hashlib.sha256()
    size = 0
    error: Message | None = None
    with _open_private(target) as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > settings.FEED_MAX_BYTES:
                error = Message(
                    gettext_noop(
                        "the file is larger than FEED_MAX_BYTES (%(limit)s bytes); "
                        "split it into smaller files"
                    ),
                    {"limit": f"{settings.FEED_MAX_BYTES:,}"},
                )
                break
            digest.update(chunk)
            out.write(chunk)
    oversized = error is not None
    encoding = ""
    if oversized:
        target.unlink()
    elif size == 0:
        error = Message(gettext_noop("the file is empty"))
    else:
        with open(target, "rb") as stored:
            try:
                if feed_format == XLSX:
                    check_workbook(stored)
                else:
                    encoding = detect_encoding(stored, source.encoding)
            except FeedFileError as exc:
                error = exc.message
    return FeedBatch.objects.create(
        source=source,
        format=feed_format,
        encoding=encoding,
        via=via,
        uploaded_by=uploaded_by,
        token_hash=token_hash,
        original_name=original_name[:255],
        stored_path="" if oversized else str(relative),
        size_bytes=size,
        checksum_sha256="" if oversized else digest.hexdigest(),
        status=FeedBatch.Status.FAILED if error else FeedBatch.Status.RECEIVED,
        error=str(error) if error else "",
        error_message=error.as_json() if error else None,
        finished_at=timezone.now() if error else None,
    )


def _format_of_name(name: str) -> str | None:
    """A workbook is read as one whatever the source usually sends (other suffixes are not
    trusted over the source's format: exports are often named .txt or .csv regardless)."""
    return XLSX if format_of_name(name) == XLSX else None


# --- processing --------------------------------------------------------------------------


def feed_batch_process(*, batch_id: int) -> FeedBatch:
    """Claim a received batch and apply its rows as facts; then re-score what it touched.

    The claim is a compare-and-swap from RECEIVED to PROCESSING, so a duplicated delivery
    of the task (a retry, a redelivered message) finds the batch taken and returns it
    untouched instead of running beside the first. Re-processing goes through
    `feed_batch_requeue`.
    """
    if not _batch_claim(batch_id):
        return FeedBatch.objects.select_related("source").get(pk=batch_id)
    batch = FeedBatch.objects.select_related("source").get(pk=batch_id)
    try:
        _batch_apply_file(batch)
    except FeedFileError as exc:
        _batch_finish(batch, status=FeedBatch.Status.FAILED, error=exc.message)
    except Exception:
        _batch_finish(
            batch,
            status=FeedBatch.Status.FAILED,
            error=Message(
                gettext_noop(
                    "processing stopped on an internal error; the batch can be re-processed"
                )
            ),
        )
        # The chunks committed before the failure changed facts: their periods are re-scored.
        _evaluate_touched_periods_after_commit(batch)
        raise
    else:
        _batch_finish(batch, status=FeedBatch.Status.COMPLETED)
    _evaluate_touched_periods_after_commit(batch)
    return batch


def feed_batch_queue(*, batch: FeedBatch) -> bool:
    """Queue a just-received batch to be processed after commit; False if it was refused on
    receipt (nothing to apply)."""
    if batch.status != FeedBatch.Status.RECEIVED:
        return False
    process_feed_batch_task.delay_on_commit(batch.id)
    return True


def feed_batch_requeue(*, batch_id: int) -> bool:
    """Send a finished batch back to be processed again, after commit; False if it cannot be.

    Compare-and-swap from a finished state to RECEIVED, so a double click (or the page and
    admin at once) queues one run, not two racing ones, and a batch waiting or running is
    left alone. A batch that failed on receipt has nothing stored to apply. A batch claimed
    longer than STALE_CLAIM ago lost its worker (a redelivery finds it claimed) and can be
    sent back too.
    """
    finished = Q(status__in=[FeedBatch.Status.COMPLETED, FeedBatch.Status.FAILED])
    stale = Q(status=FeedBatch.Status.PROCESSING, started_at__lt=timezone.now() - STALE_CLAIM)
    requeued = (
        FeedBatch.objects.filter(finished | stale, pk=batch_id, started_at__isnull=False).update(
            status=FeedBatch.Status.RECEIVED,
            error="",
            error_message=None,
            finished_at=None,
            bytes_processed=0,
        )
        == 1
    )
    if requeued:
        process_feed_batch_task.delay_on_commit(batch_id)
    return requeued


def _evaluate_touched_periods_after_commit(batch: FeedBatch) -> None:
    """Re-score the periods the batch changed facts in (a late survey, a correction)."""
    evaluate_feed_batch_task.delay_on_commit(batch.id)


def _batch_claim(batch_id: int) -> bool:
    with transaction.atomic():
        claimed = (
            FeedBatch.objects.filter(pk=batch_id, status=FeedBatch.Status.RECEIVED).update(
                status=FeedBatch.Status.PROCESSING,
                error="",
                error_message=None,
                started_at=timezone.now(),
                finished_at=None,
                bytes_processed=0,
                rows_read=0,
                created_count=0,
                updated_count=0,
                unchanged_count=0,
                rejected_count=0,
                runs=F("runs") + 1,
            )
            == 1
        )
        if claimed:
            # Touches are kept across runs: a run that stopped half-way changed facts whose
            # periods the next run (finding them unchanged) would otherwise never re-score.
            FeedRowError.objects.filter(batch_id=batch_id).delete()
    return claimed


def _batch_finish(batch: FeedBatch, *, status: str, error: Message | None = None) -> None:
    batch.status = status
    batch.error = str(error) if error else ""
    batch.error_message = error.as_json() if error else None
    batch.finished_at = timezone.now()
    if status == FeedBatch.Status.COMPLETED:
        batch.bytes_processed = batch.size_bytes
    batch.save(update_fields=["status", "error", "error_message", "finished_at", "bytes_processed"])


def _batch_apply_file(batch: FeedBatch) -> None:
    source = batch.source
    directory = AgentDirectory.for_source(source)
    channels = set(Channel.objects.values_list("code", flat=True))
    mapping = source.column_mapping or {}
    try:
        options = column_options_from_json(source.column_options or {})
    except FieldError as exc:
        raise FeedFileError(
            gettext_noop(
                "the feed source's column options cannot be used (%(problem)s); fix them in admin"
            ),
            problem=exc.message,
        ) from None
    day_first = source.date_order == FeedSource.DateOrder.DAY_FIRST
    with open(batch_file_path(batch), "rb") as raw:
        reader = open_feed(
            raw, format=batch.format, encoding=batch.encoding or "utf-8", mapping=mapping
        )
        parsers = FieldParsers(
            time_zone=ZoneInfo(source.time_zone),
            decimal_comma=reader.decimal_comma,
            day_first=day_first,
            options=options,
        )
        # How rows are read beyond their own text; the source's ways of writing values only
        # when it has some, so the digests of sources without them stay as they were.
        ways = []
        if day_first:
            ways.append(source.date_order)
        if options:
            ways.append(json.dumps(source.column_options, sort_keys=True))
        digest_key = row_digest_key(
            batch.format,
            json.dumps(mapping, sort_keys=True),
            json.dumps(reader.fields),
            source.time_zone,
            str(reader.decimal_comma),
            ",".join(sorted(channels)),
            *ways,
        )
        applier = ChunkApplier(
            batch=batch,
            reader=reader,
            directory=directory,
            channels=channels,
            validate=reader.validator(parsers),
            store=fact_store(),
            scope=WriteScope.of_batch(batch),
        )
        prepared = prepared_chunks(reader, digest_key, applier)
        with cyclic_gc_paused(), read_ahead(prepared) as chunks:
            for chunk in chunks:
                outcome = applier.apply(chunk)
                batch.rows_read += chunk.feed.size
                batch.created_count += outcome.created
                batch.updated_count += outcome.updated
                batch.unchanged_count += outcome.unchanged
                batch.rejected_count += outcome.rejected
                batch.bytes_processed = chunk.bytes_read
                batch.save(
                    update_fields=[
                        "rows_read",
                        "created_count",
                        "updated_count",
                        "unchanged_count",
                        "rejected_count",
                        "bytes_processed",
                    ]
                )


# --- one call for the CLI and the demo seed ----------------------------------------------


def ingest_feed_file(
    *,
    path: Path,
    source: FeedSource,
    format: str | None = None,
    via: str = FeedBatch.Via.CLI,
    uploaded_by: AbstractBaseUser | None = None,
) -> FeedBatch:
    """Receive and process a file synchronously; returns the finished batch."""
    with open(path, "rb") as stream:
        batch = feed_batch_receive(
            source=source,
            stream=stream,
            original_name=Path(path).name,
            format=format,
            via=via,
            uploaded_by=uploaded_by,
        )
    if batch.status == FeedBatch.Status.FAILED:
        return batch
    return feed_batch_process(batch_id=batch.id)


def batch_report(batch: FeedBatch, *, error_limit: int | None = None) -> dict[str, Any]:
    """The batch report, as printed by `ingest --json` and returned by the API."""
    errors = batch.row_errors.order_by("line", "id")
    if error_limit is not None:
        errors = errors[:error_limit]
    return {
        "batch": batch.id,
        "source": batch.source.slug,
        "status": batch.status,
        "error": batch.error_text,
        "format": batch.format,
        "encoding": batch.encoding,
        "checksum_sha256": batch.checksum_sha256,
        "rows": batch.rows_read,
        "created": batch.created_count,
        "updated": batch.updated_count,
        "unchanged": batch.unchanged_count,
        "rejected": batch.rejected_count,
        "errors": [
            {"line": error.line, "field": error.field, "reason": error.reason_text}
            for error in errors.only("line", "field", "reason", "reason_message")
        ],
    }
