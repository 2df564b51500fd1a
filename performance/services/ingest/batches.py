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
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, QuerySet
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
    ChunkOutcome,
    PreparedChunk,
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


class ClaimLost(Exception):
    """Another run took the batch over (this one's lease had run out): stop, writing nothing."""


@dataclass
class _Run:
    """One run's claim on a batch: the fence of every write it makes, and its lease.

    A run writes the batch row only where `runs` is still its number: a run that was
    thought dead and wakes up after another took over (a zombie) fails there, and the chunk
    it was applying rolls back with that write.
    """

    batch: FeedBatch
    renew_every: float = field(default_factory=lambda: settings.FEED_BATCH_LEASE_SECONDS / 3)
    renewed: float = field(default_factory=time.monotonic)

    def save_progress(self, chunk: PreparedChunk, outcome: ChunkOutcome) -> None:
        """The chunk's checkpoint, in its transaction: counters, bytes read and the lease."""
        batch = self.batch
        progress = {
            "rows_read": batch.rows_read + chunk.feed.size,
            "created_count": batch.created_count + outcome.created,
            "updated_count": batch.updated_count + outcome.updated,
            "unchanged_count": batch.unchanged_count + outcome.unchanged,
            "rejected_count": batch.rejected_count + outcome.rejected,
            "qa_kept_aside_count": batch.qa_kept_aside_count + outcome.qa_kept_aside,
            "bytes_processed": chunk.bytes_read,
        }
        self._renew(**progress, stalled_runs=0)
        for name, value in progress.items():
            setattr(batch, name, value)

    def keep_alive(self) -> None:
        """Renew the lease if a third of it passed since the last renewal (no query else)."""
        if time.monotonic() - self.renewed >= self.renew_every:
            self._renew()

    def finish(self, *, status: str, error: Message | None = None) -> bool:
        """Close the run; False if another run holds the batch now (nothing is written)."""
        batch = self.batch
        fields = {
            "status": status,
            "error": str(error) if error else "",
            "error_message": error.as_json() if error else None,
            "finished_at": timezone.now(),
            "bytes_processed": batch.size_bytes
            if status == FeedBatch.Status.COMPLETED
            else batch.bytes_processed,
        }
        if not self._claimed().update(**fields):
            return False
        for name, value in fields.items():
            setattr(batch, name, value)
        return True

    def _claimed(self) -> QuerySet[FeedBatch]:
        return FeedBatch.objects.filter(
            pk=self.batch.pk, runs=self.batch.runs, status=FeedBatch.Status.PROCESSING
        )

    def _renew(self, **fields: Any) -> None:
        now = timezone.now()
        if not self._claimed().update(heartbeat_at=now, **fields):
            raise ClaimLost
        self.batch.heartbeat_at = now
        self.renewed = time.monotonic()


def feed_batch_process(*, batch_id: int) -> FeedBatch:
    """Claim a batch and apply its rows as facts; then re-score what it touched.

    The claim is a compare-and-swap from RECEIVED, or from PROCESSING when the run holding
    it stalled (its lease ran out: the worker died), to PROCESSING under a new run number.
    A duplicated delivery of the task (a retry, a redelivered message) finds the batch
    taken and returns it untouched instead of running beside the first; a redelivered
    message of a stalled batch resumes it. A run continues after the rows the batch's
    earlier runs committed (its counters are the checkpoint), so the report of a resumed
    batch is the report of one uninterrupted run. Re-processing from the top goes through
    `feed_batch_requeue`.
    """
    run = _batch_claim(batch_id)
    if run is None:
        return FeedBatch.objects.select_related("source").get(pk=batch_id)
    batch = run.batch
    try:
        _batch_apply_file(run)
    except ClaimLost:
        logger.warning("feed batch %s: run %s was taken over by a later run", batch_id, batch.runs)
        return FeedBatch.objects.select_related("source").get(pk=batch_id)
    except FeedFileError as exc:
        finished = run.finish(status=FeedBatch.Status.FAILED, error=exc.message)
    except Exception:
        internal = Message(
            gettext_noop("processing stopped on an internal error; the batch can be re-processed")
        )
        # The chunks committed before the failure changed facts: their periods are re-scored.
        if run.finish(status=FeedBatch.Status.FAILED, error=internal):
            _evaluate_touched_periods_after_commit(batch)
        raise
    else:
        finished = run.finish(status=FeedBatch.Status.COMPLETED)
    if not finished:
        return FeedBatch.objects.select_related("source").get(pk=batch_id)
    _evaluate_touched_periods_after_commit(batch)
    return batch


def feed_batch_queue(*, batch: FeedBatch) -> bool:
    """Queue a just-received batch to be processed after commit; False if it was refused on
    receipt (nothing to apply)."""
    if batch.status != FeedBatch.Status.RECEIVED:
        return False
    process_feed_batch_task.delay_on_commit(batch.id)
    return True


# The report of a run from the top of the file.
FRESH_REPORT = {
    "bytes_processed": 0,
    "rows_read": 0,
    "created_count": 0,
    "updated_count": 0,
    "unchanged_count": 0,
    "rejected_count": 0,
    "qa_kept_aside_count": 0,
}


def feed_batch_requeue(*, batch_id: int) -> bool:
    """Send a finished batch back to be processed again from the top, after commit; False if
    it cannot be.

    Compare-and-swap from a finished state to RECEIVED, so a double click (or the page and
    admin at once) queues one run, not two racing ones, and a batch waiting or running is
    left alone. A batch that failed on receipt has nothing stored to apply. The report
    starts again: the new run counts what it changes, so rows an earlier run applied count
    as unchanged. A stalled batch is resumed instead (`feed_batch_resume`).
    """
    with transaction.atomic():
        requeued = (
            FeedBatch.objects.filter(
                pk=batch_id,
                status__in=[FeedBatch.Status.COMPLETED, FeedBatch.Status.FAILED],
                started_at__isnull=False,
            ).update(
                status=FeedBatch.Status.RECEIVED,
                error="",
                error_message=None,
                started_at=None,
                finished_at=None,
                heartbeat_at=None,
                stalled_runs=0,
                **FRESH_REPORT,
            )
            == 1
        )
        if requeued:
            # Touches are kept across runs: facts an earlier run changed are re-scored even
            # though this run finds them unchanged.
            FeedRowError.objects.filter(batch_id=batch_id).delete()
            process_feed_batch_task.delay_on_commit(batch_id)
    return requeued


# Runs in a row that may die before committing a chunk before the beat stops resuming the
# batch: a file that kills its worker each time waits for a person instead.
MAX_STALLED_RUNS = 3


def feed_batch_resume(*, batch_id: int) -> bool:
    """Send a stalled batch back to continue after its last committed chunk, after commit;
    False if it is not stalled (finished, waiting, or its run is alive).

    Compare-and-swap from PROCESSING with an expired lease to RECEIVED, keeping the report
    and the rejected rows of the chunks committed so far; the run that claims it next
    skips those rows. A resume asked for twice queues one run.
    """
    with transaction.atomic():
        resumed = (
            FeedBatch.objects.filter(FeedBatch.stalled(), pk=batch_id).update(
                status=FeedBatch.Status.RECEIVED,
                heartbeat_at=None,
                stalled_runs=F("stalled_runs") + 1,
            )
            == 1
        )
        if resumed:
            process_feed_batch_task.delay_on_commit(batch_id)
    return resumed


def feed_batches_resume_stalled(*, now: datetime | None = None) -> int:
    """Resume every stalled batch (the beat's recovery); return how many were queued.

    A batch whose last MAX_STALLED_RUNS runs all died before committing a chunk fails with
    a message instead, so a file that kills its worker is not retried forever; a person can
    still resume or re-process it.
    """
    resumed = 0
    stalled = FeedBatch.objects.filter(FeedBatch.stalled(now)).order_by("id")
    for batch_id, stalled_runs in stalled.values_list("id", "stalled_runs"):
        if stalled_runs + 1 >= MAX_STALLED_RUNS:
            _batch_give_up(batch_id, stalled_runs=stalled_runs + 1)
        elif feed_batch_resume(batch_id=batch_id):
            resumed += 1
    return resumed


def _batch_give_up(batch_id: int, *, stalled_runs: int) -> None:
    error = Message(
        gettext_noop(
            "processing stopped %(times)s times in a row at the same place (its worker died "
            "or was stopped each time); re-process the batch once the cause is fixed"
        ),
        {"times": str(stalled_runs)},
    )
    with transaction.atomic():
        failed = FeedBatch.objects.filter(FeedBatch.stalled(), pk=batch_id).update(
            status=FeedBatch.Status.FAILED,
            error=str(error),
            error_message=error.as_json(),
            finished_at=timezone.now(),
            stalled_runs=stalled_runs,
        )
        if failed:
            logger.error("feed batch %s: %s", batch_id, error)
            evaluate_feed_batch_task.delay_on_commit(batch_id)


def _evaluate_touched_periods_after_commit(batch: FeedBatch) -> None:
    """Re-score the periods the batch changed facts in (a late survey, a correction)."""
    evaluate_feed_batch_task.delay_on_commit(batch.id)


def _batch_claim(batch_id: int) -> _Run | None:
    """A new run on the batch if it is waiting or stalled; None if another run holds it.

    The row is locked while it is read and claimed, so the counters the run continues from
    include every chunk the stalled run committed, and that run's later writes fail.
    """
    now = timezone.now()
    with transaction.atomic():
        batch = (
            FeedBatch.objects.select_for_update(of=("self",))
            .select_related("source")
            .filter(Q(status=FeedBatch.Status.RECEIVED) | FeedBatch.stalled(now), pk=batch_id)
            .first()
        )
        if batch is None:
            return None
        if batch.status == FeedBatch.Status.PROCESSING:
            # Taken over from a run that died: the redelivered message of a stalled batch.
            batch.stalled_runs += 1
        batch.status = FeedBatch.Status.PROCESSING
        batch.error, batch.error_message = "", None
        batch.started_at = batch.started_at or now
        batch.heartbeat_at, batch.finished_at = now, None
        batch.runs += 1
        batch.save(
            update_fields=[
                "status",
                "error",
                "error_message",
                "started_at",
                "heartbeat_at",
                "finished_at",
                "stalled_runs",
                "runs",
            ]
        )
    return _Run(batch)


def _batch_apply_file(run: _Run) -> None:
    batch = run.batch
    source = batch.source
    directory = AgentDirectory.for_source(source)
    channels = set(Channel.objects.values_list("code", flat=True))
    review = batch.via == FeedBatch.Via.REVIEW
    # A review's batch is written by Atendo in the feed schema itself, not the source's way.
    mapping = {} if review else source.column_mapping or {}
    try:
        options = column_options_from_json({} if review else source.column_options or {})
    except FieldError as exc:
        raise FeedFileError(
            gettext_noop(
                "the feed source's column options cannot be used (%(problem)s); fix them in admin"
            ),
            problem=exc.message,
        ) from None
    day_first = not review and source.date_order == FeedSource.DateOrder.DAY_FIRST
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
        if review:
            ways.append(FeedBatch.Via.REVIEW)
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
            review=review,
            checkpoint=run.save_progress,
        )
        run.keep_alive()
        prepared = prepared_chunks(reader, digest_key, applier, skip_rows=batch.rows_read)
        with cyclic_gc_paused(), read_ahead(prepared) as chunks:
            for chunk in chunks:
                if chunk is None:  # rows an earlier run applied, read past
                    run.keep_alive()
                    continue
                applier.apply(chunk)


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
        "qa_kept_aside": batch.qa_kept_aside_count,
        "errors": [
            {"line": error.line, "field": error.field, "reason": error.reason_text}
            for error in errors.only("line", "field", "reason", "reason_message")
        ],
    }
