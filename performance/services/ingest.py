"""Ingesting KPI feeds: receive a file as-is, then apply its rows as facts.

Every entry point (CLI, API, upload page, demo seed) goes through `feed_batch_receive`
and `feed_batch_process`. Receiving stores the raw bytes with their checksum
(DESIGN invariant 1); processing reads the stored file in chunks and upserts facts keyed
by (source, external_id), so re-sending a file changes nothing (invariant 2).
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from performance.models import Channel, FeedBatch, FeedRowError, FeedSource, Interaction
from performance.services.agents import AgentDirectory
from performance.services.fact_store import FACT_FIELDS, Fact, FactStore, Stored, fact_store
from performance.services.feed_parsing import (
    REQUIRED_FOR_NEW,
    CountingReader,
    FeedChunk,
    FeedFileError,
    FeedReader,
    FieldParsers,
    ParsedRow,
    RowError,
    check_utf8,
    derive_handle_seconds,
    open_feed,
    row_digest_key,
)

logger = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
READ_BUFFER_BYTES = 1 << 20
FUTURE_TOLERANCE = timedelta(days=1)
EMPTY_FACT: Fact = dict.fromkeys(FACT_FIELDS)
COLUMN_FOR_FIELD = {"agent": "agent_id"}
REQUIRED_COLUMNS_FOR_NEW = frozenset(COLUMN_FOR_FIELD.get(name, name) for name in REQUIRED_FOR_NEW)
KEY_LENGTH = Interaction._meta.get_field("external_id").max_length


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
        _evaluate_touched_periods_after_commit(batch)
    return batch


def _evaluate_touched_periods_after_commit(batch: FeedBatch) -> None:
    """Re-score the periods the batch changed facts in (a late survey, a correction)."""
    from performance.tasks import evaluate_feed_batch  # the tasks module imports this one

    evaluate_feed_batch.delay_on_commit(batch.id)


def feed_batch_requeue(*, batch_id: int) -> bool:
    """Mark a finished batch as waiting to be processed again; False if it cannot be.

    Compare-and-swap, so a double click queues one run, not two racing ones. A batch that
    failed on receipt has nothing stored to apply and is not requeued.
    """
    return (
        FeedBatch.objects.filter(
            pk=batch_id,
            status__in=[FeedBatch.Status.COMPLETED, FeedBatch.Status.FAILED],
            started_at__isnull=False,
        ).update(status=FeedBatch.Status.RECEIVED, error="", finished_at=None, bytes_processed=0)
        == 1
    )


def _batch_reset(batch: FeedBatch) -> None:
    with transaction.atomic():
        # Touches are kept across runs: a run that stopped half-way changed facts whose
        # periods the next run (finding them unchanged) would otherwise never re-score.
        batch.row_errors.all().delete()
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
    with open(batch_file_path(batch), "rb") as raw:
        counter = CountingReader(raw)
        # Big reads: each one goes through CountingReader, in Python.
        buffered = io.BufferedReader(counter, buffer_size=READ_BUFFER_BYTES)
        text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
        mapping = source.column_mapping or {}
        reader = open_feed(text, format=batch.format, mapping=mapping)
        parsers = FieldParsers(
            time_zone=ZoneInfo(source.time_zone), decimal_comma=reader.decimal_comma
        )
        digest_key = row_digest_key(
            batch.format,
            json.dumps(mapping, sort_keys=True),
            json.dumps(reader.fields),
            source.time_zone,
            str(reader.decimal_comma),
            ",".join(sorted(channels)),
        )
        applier = ChunkApplier(
            batch=batch,
            reader=reader,
            directory=directory,
            channels=channels,
            validate=reader.validator(parsers),
            store=fact_store(),
        )
        prepared = _prepared_chunks(reader, counter, digest_key, applier)
        with _cyclic_gc_paused(), _read_ahead(prepared) as chunks:
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


@dataclass
class PreparedChunk:
    """A chunk of rows with everything that can be worked out without the database."""

    feed: FeedChunk
    bytes_read: int
    keys: list[str]
    agents: list[str]
    digests: list[bytes | None]
    # Each readable row validated ahead, when most rows are expected to need it.
    validated: list[ParsedRow | list[RowError]] | None


def _prepared_chunks(
    reader: FeedReader, counter: CountingReader, digest_key: bytes, applier: ChunkApplier
) -> Iterator[PreparedChunk]:
    for chunk in reader.chunks(CHUNK_ROWS):
        keys, agents, digests = reader.identities(chunk, digest_key)
        validated = None
        if applier.expects_changes:
            validated = list(map(applier.validate, chunk.rows, chunk.lines))
        yield PreparedChunk(chunk, counter.bytes_read, keys, agents, digests, validated)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Rows hold no reference cycles, but the collector would walk every live row of a
    chunk again and again while the next one is built (a third of the reading time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_END = object()


@contextmanager
def _read_ahead(items: Iterator[Any]) -> Iterator[Iterator[Any]]:
    """Iterate `items` in a background thread, one item ahead of the consumer.

    Reading, digesting and validating the next chunk needs no database, so it runs while
    the consumer waits on the database for the current one (waiting releases the GIL).
    """
    handoff: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def send(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                handoff.put((item, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not send(item):
                    return
            send(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            send(_END, exc)

    def consume() -> Iterator[Any]:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item

    thread = threading.Thread(target=produce, name="feed-read-ahead", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


@dataclass
class ChunkApplier:
    batch: FeedBatch
    reader: FeedReader
    directory: AgentDirectory
    channels: set[str]
    validate: Callable[[Any, int], ParsedRow | list[RowError]]
    store: FactStore
    # Touches already stored for this batch: a chunk only writes the ones that are new.
    recorded_touches: set[tuple[int, date]] = field(default_factory=set)
    # Whether most rows of the last chunk needed validating (so the next are validated ahead).
    expects_changes: bool = False

    def apply(self, chunk: PreparedChunk) -> ChunkOutcome:
        outcome = ChunkOutcome()
        for line, raw_text, reason in chunk.feed.problems:
            self._reject(outcome, [RowError(line, "", reason)], raw_text)
        source_id = self.batch.source_id
        with transaction.atomic():
            self.store.lock_source(source_id)
            pending, stored = self._skip_resent_rows(chunk, outcome)
            parsed = self._validate(chunk, pending, outcome)
            existing = self.store.fetch(
                source_id, {row.external_id for row, _ in parsed if row.external_id in stored}
            )
            state: dict[str, Fact] = dict(existing)
            # Keys created by a row of this chunk (in file order: facts are stored in the
            # order they come), and per key the rows that then changed its running state. A
            # stored key whose final fact equals what was stored before the chunk changed
            # nothing: its rows count as unchanged.
            created_keys: dict[str, None] = {}
            updating_rows: dict[str, int] = {}
            # The digest of the last row applied to each key: its fact is a fixed point of it.
            digests: dict[str, bytes | None] = {}
            for row, index in parsed:
                key = row.external_id
                values = row.values
                current = state.get(key)
                if current is None:
                    if not values.keys() >= REQUIRED_COLUMNS_FOR_NEW:
                        raw_text = self.reader.text_of(chunk.feed, index)
                        self._reject_incomplete(outcome, row, raw_text)
                        continue
                    merged = {**EMPTY_FACT, **values}
                    created_keys[key] = None
                else:
                    merged = {**current, **values}
                if merged["handle_seconds"] is None:
                    derive_handle_seconds(merged)
                digests[key] = chunk.digests[index]
                if merged == current:
                    outcome.unchanged += 1
                    continue
                state[key] = merged
                if current is not None:
                    updating_rows[key] = updating_rows.get(key, 0) + 1

            created = {key: state[key] for key in created_keys}
            outcome.created += len(created)
            updated: dict[str, Fact] = {}
            for key, rows in updating_rows.items():
                if key in created_keys:
                    outcome.updated += rows
                elif state[key] == existing[key]:
                    outcome.unchanged += rows
                else:
                    updated[key] = state[key]
                    outcome.updated += rows
            self.store.write(
                source_id,
                created=created,
                updated=updated,
                digests=digests,
                batch_id=self.batch.id,
                now=timezone.now(),
            )
            touches = {self._touch(fact) for fact in created.values()}
            for key, fact in updated.items():
                touches.add(self._touch(fact))
                touches.add(self._touch(existing[key]))
            new_touches = touches - self.recorded_touches
            self.store.record_touches(self.batch.id, new_touches)
            FeedRowError.objects.bulk_create(outcome.errors, batch_size=5000)
        self.recorded_touches |= new_touches
        self.expects_changes = 2 * len(pending) > len(chunk.feed.rows)
        outcome.touches = touches
        return outcome

    def _skip_resent_rows(
        self, chunk: PreparedChunk, outcome: ChunkOutcome
    ) -> tuple[list[int], dict[str, Stored]]:
        """Count a row as unchanged, unvalidated, when it is the very row (same text, read
        the same way, same agent) that last set its fact; return the indexes of the others.

        Applying a row leaves its fact a fixed point of that row, so sending it again
        cannot change anything, until another row changes the fact: once a key has a row
        that is not skipped, its later rows in the chunk are not skipped either.
        """
        keys = chunk.keys
        stored = self.store.probe(
            self.batch.source_id, {key for key in keys if 0 < len(key) <= KEY_LENGTH}
        )
        agent_ids = self.directory.agent_ids
        pending: list[int] = []
        touched_keys: set[str] = set()
        for index, (key, agent, digest, found) in enumerate(
            zip(keys, chunk.agents, chunk.digests, map(stored.get, keys), strict=True)
        ):
            if (
                found is not None
                and digest is not None
                and found[0] == digest
                and (not agent or agent_ids.get(agent.lower()) == found[1])
                and key not in touched_keys
            ):
                continue
            touched_keys.add(key)
            pending.append(index)
        outcome.unchanged += len(keys) - len(pending)
        return pending, stored

    def _validate(
        self, chunk: PreparedChunk, pending: list[int], outcome: ChunkOutcome
    ) -> list[tuple[ParsedRow, int]]:
        """The pending rows that pass every per-row check, in order, with their indexes;
        the rest rejected."""
        parsed: list[tuple[ParsedRow, int]] = []
        rows, lines = chunk.feed.rows, chunk.feed.lines
        validated = chunk.validated
        validate = self.validate
        agent_ids = self.directory.agent_ids
        channels = self.channels
        latest = timezone.now() + FUTURE_TOLERANCE
        for index in pending:
            row = validated[index] if validated is not None else validate(rows[index], lines[index])
            if isinstance(row, list):
                errors = row + self._check_agent(rows[index], lines[index])
                self._reject(outcome, errors, self.reader.text_of(chunk.feed, index))
                continue
            values = row.values
            known_agent = True
            if row.agent_key is not None:
                agent_id = agent_ids.get(row.agent_key.lower())
                if agent_id is None:
                    known_agent = False
                else:
                    values["agent_id"] = agent_id
            channel = values.get("channel")
            started = values.get("started_at")
            if (
                not known_agent
                or (channel is not None and channel not in channels)
                or (started is not None and started > latest)
            ):
                errors = self._check_references(row, latest)
                if errors:
                    self._reject(outcome, errors, self.reader.text_of(chunk.feed, index))
                    continue
            parsed.append((row, index))
        return parsed

    def _check_references(self, row: ParsedRow, latest: datetime) -> list[RowError]:
        """Every reference problem of a row that failed the quick checks in `_validate`; an
        unknown agent is created here when the source allows it."""
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

    def _check_agent(self, raw: Any, line: int) -> list[RowError]:
        """Report an unknown agent beside a row's other errors."""
        key = self.reader.field_value(raw, "agent")
        if (
            not isinstance(key, str)
            or not key.strip()
            or self.directory.agent_ids.get(key.strip().lower())
        ):
            return []
        if self.batch.source.create_unknown_agents:
            return []
        return [RowError(line, "agent", _unknown_agent_reason(self.batch.source, key.strip()))]

    def _reject_incomplete(self, outcome: ChunkOutcome, row: ParsedRow, raw_text: str) -> None:
        missing = [
            name for name in REQUIRED_FOR_NEW if COLUMN_FOR_FIELD.get(name, name) not in row.values
        ]
        reason = f"is required for a new interaction ({row.external_id!r} is not known yet)"
        self._reject(outcome, [RowError(row.line, name, reason) for name in missing], raw_text)

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
