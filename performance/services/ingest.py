"""Ingesting KPI feeds: receive a file as-is, then apply its rows as facts.

Every entry point (CLI, API, upload page, demo seed) goes through `feed_batch_receive`
and `feed_batch_process`. Receiving stores the raw bytes with their checksum
(DESIGN invariant 1); processing reads the stored file in chunks and upserts facts keyed
by (source, external_id), so re-sending a file changes nothing (invariant 2).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from performance.models import Channel, FeedBatch, FeedBatchTouch, FeedRowError, FeedSource
from performance.services.agents import AgentDirectory
from performance.services.fact_store import FACT_FIELDS, Fact, FactStore, fact_store
from performance.services.feed_parsing import (
    REQUIRED_FOR_NEW,
    CountingReader,
    FeedFileError,
    FieldParsers,
    ParsedRow,
    RowError,
    check_utf8,
    derive_handle_seconds,
    open_feed,
    validate_row,
)

logger = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
FUTURE_TOLERANCE = timedelta(days=1)
EMPTY_FACT: Fact = dict.fromkeys(FACT_FIELDS)
COLUMN_FOR_FIELD = {"agent": "agent_id"}


def storage_root() -> Path:
    return Path(settings.FEED_STORAGE_DIR)


def batch_file_path(batch: FeedBatch) -> Path:
    return storage_root() / batch.stored_path


# --- receiving ---------------------------------------------------------------------------


def feed_batch_receive(
    *,
    source: FeedSource,
    stream: IO[bytes],
    original_name: str = "",
    format: str | None = None,
    via: str,
    uploaded_by: AbstractBaseUser | None = None,
) -> FeedBatch:
    """Store a feed file exactly as received and open a batch for it.

    A file over FEED_MAX_BYTES or not UTF-8 gives a FAILED batch with the reason; an
    accepted one is RECEIVED and ready for `feed_batch_process`.
    """
    received_on = timezone.now()
    relative = (
        Path(source.slug)
        / f"{received_on:%Y/%m/%d}"
        / f"{uuid.uuid4().hex}.{format or source.format}"
    )
    target = storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    error = ""
    with open(target, "wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > settings.FEED_MAX_BYTES:
                error = (
                    f"the file is larger than FEED_MAX_BYTES ({settings.FEED_MAX_BYTES:,} bytes); "
                    "split it into smaller files"
                )
                break
            digest.update(chunk)
            out.write(chunk)
    oversized = bool(error)
    if oversized:
        target.unlink()
    else:
        with open(target, "rb") as stored:
            try:
                check_utf8(stored)
            except FeedFileError as exc:
                error = str(exc)
        if not error and size == 0:
            error = "the file is empty"
    return FeedBatch.objects.create(
        source=source,
        format=format or source.format,
        via=via,
        uploaded_by=uploaded_by,
        original_name=original_name[:255],
        stored_path="" if oversized else str(relative),
        size_bytes=size,
        checksum_sha256="" if oversized else digest.hexdigest(),
        status=FeedBatch.Status.FAILED if error else FeedBatch.Status.RECEIVED,
        error=error,
        finished_at=timezone.now() if error else None,
    )


# --- processing --------------------------------------------------------------------------


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[FeedRowError] = field(default_factory=list)
    touches: set[tuple[int, date]] = field(default_factory=set)


def feed_batch_process(*, batch_id: int) -> FeedBatch:
    """Apply a received batch's rows as facts. Safe to run again: facts converge."""
    batch = FeedBatch.objects.select_related("source").get(pk=batch_id)
    if batch.status == FeedBatch.Status.FAILED and not batch.started_at and batch.error:
        return batch  # failed on receipt (too large, not UTF-8): there is nothing to apply
    _batch_reset(batch)
    try:
        _batch_apply_file(batch)
    except FeedFileError as exc:
        _batch_finish(batch, status=FeedBatch.Status.FAILED, error=str(exc))
    except Exception:
        _batch_finish(
            batch,
            status=FeedBatch.Status.FAILED,
            error="processing stopped on an internal error; the batch can be re-processed",
        )
        raise
    else:
        _batch_finish(batch, status=FeedBatch.Status.COMPLETED)
    return batch


def _batch_reset(batch: FeedBatch) -> None:
    with transaction.atomic():
        batch.row_errors.all().delete()
        batch.touches.all().delete()
        batch.status = FeedBatch.Status.PROCESSING
        batch.error = ""
        batch.started_at = timezone.now()
        batch.finished_at = None
        batch.bytes_processed = 0
        batch.rows_read = batch.created_count = batch.updated_count = 0
        batch.unchanged_count = batch.rejected_count = 0
        batch.runs += 1
        batch.save()


def _batch_finish(batch: FeedBatch, *, status: str, error: str = "") -> None:
    batch.status = status
    batch.error = error
    batch.finished_at = timezone.now()
    if status == FeedBatch.Status.COMPLETED:
        batch.bytes_processed = batch.size_bytes
    batch.save(update_fields=["status", "error", "finished_at", "bytes_processed"])


def _batch_apply_file(batch: FeedBatch) -> None:
    source = batch.source
    directory = AgentDirectory.for_source(source)
    channels = set(Channel.objects.values_list("code", flat=True))
    store = fact_store()
    with open(batch_file_path(batch), "rb") as raw:
        counter = CountingReader(raw)
        text = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig", newline="")
        reader = open_feed(text, format=batch.format, mapping=source.column_mapping or {})
        parsers = FieldParsers(
            time_zone=ZoneInfo(source.time_zone), decimal_comma=reader.decimal_comma
        )
        applier = ChunkApplier(
            batch=batch, directory=directory, channels=channels, parsers=parsers, store=store
        )
        for chunk in _chunks(reader.rows, CHUNK_ROWS):
            outcome = applier.apply(chunk)
            batch.rows_read += len(chunk)
            batch.created_count += outcome.created
            batch.updated_count += outcome.updated
            batch.unchanged_count += outcome.unchanged
            batch.rejected_count += outcome.rejected
            batch.bytes_processed = counter.bytes_read
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


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


@dataclass
class ChunkApplier:
    batch: FeedBatch
    directory: AgentDirectory
    channels: set[str]
    parsers: FieldParsers
    store: FactStore

    def apply(
        self, chunk: list[tuple[int, dict[str, Any] | None, str, str | None]]
    ) -> ChunkOutcome:
        outcome = ChunkOutcome()
        parsed: list[tuple[ParsedRow, str]] = []
        latest = timezone.now() + FUTURE_TOLERANCE
        for line, raw, raw_text, problem in chunk:
            if problem is not None or raw is None:
                self._reject(outcome, [RowError(line, "", problem or "unreadable row")], raw_text)
                continue
            result = validate_row(raw, line=line, parsers=self.parsers)
            if isinstance(result, list):
                self._reject(outcome, result + self._check_agent(raw, line), raw_text)
                continue
            errors = self._check_references(result, latest)
            if errors:
                self._reject(outcome, errors, raw_text)
                continue
            parsed.append((result, raw_text))

        with transaction.atomic():
            source_id = self.batch.source_id
            self.store.lock_source(source_id)
            existing = self.store.fetch(source_id, {row.external_id for row, _ in parsed})
            state: dict[str, Fact] = dict(existing)
            # Rows that changed the running state, per key. A key whose final fact equals
            # what was stored before the batch changed nothing: its rows count as unchanged.
            changing_rows: dict[str, list[str]] = {}
            for row, raw_text in parsed:
                current = state.get(row.external_id)
                if current is None:
                    missing = [
                        name
                        for name in REQUIRED_FOR_NEW
                        if COLUMN_FOR_FIELD.get(name, name) not in row.values
                    ]
                    if missing:
                        self._reject(
                            outcome,
                            [
                                RowError(
                                    row.line,
                                    name,
                                    f"is required for a new interaction "
                                    f"({row.external_id!r} is not known yet)",
                                )
                                for name in missing
                            ],
                            raw_text,
                        )
                        continue
                    merged = {**EMPTY_FACT, **row.values}
                    derive_handle_seconds(merged)
                    kind = "created"
                else:
                    merged = {**current, **row.values}
                    derive_handle_seconds(merged)
                    if merged == current:
                        outcome.unchanged += 1
                        continue
                    kind = "updated"
                state[row.external_id] = merged
                changing_rows.setdefault(row.external_id, []).append(kind)

            to_write: dict[str, Fact] = {}
            for key, kinds in changing_rows.items():
                if state[key] == existing.get(key):
                    outcome.unchanged += len(kinds)
                    continue
                to_write[key] = state[key]
                outcome.created += kinds.count("created")
                outcome.updated += kinds.count("updated")
            self.store.write(source_id, to_write, batch_id=self.batch.id, now=timezone.now())
            for key, fact in to_write.items():
                outcome.touches.add(self._touch(fact))
                if key in existing:
                    outcome.touches.add(self._touch(existing[key]))
            FeedRowError.objects.bulk_create(outcome.errors, batch_size=5000)
            FeedBatchTouch.objects.bulk_create(
                [
                    FeedBatchTouch(batch=self.batch, agent_id=a, local_date=d)
                    for a, d in outcome.touches
                ],
                batch_size=5000,
                ignore_conflicts=True,
            )
        return outcome

    def _check_references(self, row: ParsedRow, latest: datetime) -> list[RowError]:
        errors = []
        if row.agent_key is not None:
            agent_id = self.directory.resolve(row.agent_key)
            if agent_id is None:
                errors.append(
                    RowError(
                        row.line, "agent", _unknown_agent_reason(self.batch.source, row.agent_key)
                    )
                )
            else:
                row.values["agent_id"] = agent_id
        channel = row.values.get("channel")
        if channel is not None and channel not in self.channels:
            errors.append(
                RowError(
                    row.line,
                    "channel",
                    f"unknown channel {channel!r} (known: {', '.join(sorted(self.channels))})",
                )
            )
        started = row.values.get("started_at")
        if started is not None and started > latest:
            errors.append(
                RowError(row.line, "started_at", f"{started:%Y-%m-%d %H:%M} UTC is in the future")
            )
        return errors

    def _check_agent(self, raw: dict[str, Any], line: int) -> list[RowError]:
        """Report an unknown agent beside a row's other errors."""
        key = raw.get("agent")
        if (
            not isinstance(key, str)
            or not key.strip()
            or self.directory.agent_ids.get(key.strip().lower())
        ):
            return []
        if self.batch.source.create_unknown_agents:
            return []
        return [RowError(line, "agent", _unknown_agent_reason(self.batch.source, key.strip()))]

    def _reject(self, outcome: ChunkOutcome, errors: list[RowError], raw_text: str) -> None:
        outcome.rejected += 1
        for error in errors:
            outcome.errors.append(
                FeedRowError(
                    batch=self.batch,
                    line=error.line,
                    field=error.field,
                    reason=error.reason[:500],
                    raw=raw_text[:4000],
                )
            )

    def _touch(self, fact: Fact) -> tuple[int, date]:
        zone = self.directory.time_zones[fact["agent_id"]]
        return fact["agent_id"], fact["started_at"].astimezone(zone).date()


def _unknown_agent_reason(source: FeedSource, key: str) -> str:
    how = FeedSource.AgentMatch(source.agent_match).label.lower()
    return (
        f"unknown agent {key!r} (matched by {how}); add the agent or enable creating unknown agents"
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
    errors = batch.row_errors.order_by("line", "id").values("line", "field", "reason")
    if error_limit is not None:
        errors = errors[:error_limit]
    return {
        "batch": batch.id,
        "source": batch.source.slug,
        "status": batch.status,
        "error": batch.error,
        "checksum_sha256": batch.checksum_sha256,
        "rows": batch.rows_read,
        "created": batch.created_count,
        "updated": batch.updated_count,
        "unchanged": batch.unchanged_count,
        "rejected": batch.rejected_count,
        "errors": list(errors),
    }
