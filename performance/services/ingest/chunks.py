"""Applying one chunk of parsed rows: validation, agents, the fact store, the report."""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from performance.feeds import (
    REQUIRED_FOR_NEW,
    FeedChunk,
    FeedReader,
    ParsedRow,
    RowError,
    derive_handle_seconds,
    printable,
    row_error,
)
from performance.models import FeedBatch, FeedRowError, FeedSource, Interaction
from performance.services.ingest.agents import AgentDirectory, FeedAgentRefused
from performance.services.ingest.fact_store import FACT_FIELDS, Fact, FactStore, Stored
from performance.services.ingest.scope import WriteScope

CHUNK_ROWS = settings.FEED_CHUNK_ROWS
EMPTY_FACT: Fact = {**dict.fromkeys(FACT_FIELDS), "qa_reviewed": False}
COLUMN_FOR_FIELD = {"agent": "agent_id"}
REQUIRED_COLUMNS_FOR_NEW = frozenset(COLUMN_FOR_FIELD.get(name, name) for name in REQUIRED_FOR_NEW)
KEY_LENGTH = Interaction._meta.get_field("external_id").max_length


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # Rows whose qa_score was kept aside: a review's score wins (see `_qa_score_rule`).
    qa_kept_aside: int = 0
    errors: list[FeedRowError] = field(default_factory=list)
    touches: set[tuple[int, date]] = field(default_factory=set)


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


def prepared_chunks(
    reader: FeedReader, digest_key: bytes, applier: ChunkApplier, *, skip_rows: int = 0
) -> Iterator[PreparedChunk | None]:
    """The file's chunks, ready to apply, after the first `skip_rows` rows (applied by an
    earlier run); each chunk read past yields None, a moment the consumer can show it is
    alive while no chunk commits."""
    for chunk in reader.chunks(CHUNK_ROWS):
        if skip_rows:
            if chunk.size <= skip_rows:
                skip_rows -= chunk.size
                yield None
                continue
            chunk, skip_rows = chunk.after(skip_rows), 0
        keys, agents, digests = reader.identities(chunk, digest_key)
        validated = None
        if applier.expects_changes:
            validated = list(map(applier.validate, chunk.rows, chunk.lines))
        yield PreparedChunk(chunk, reader.bytes_read(), keys, agents, digests, validated)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
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
def read_ahead(items: Iterator[Any]) -> Iterator[Iterator[Any]]:
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
    # Whose facts the batch may write (None: any agent of its source); see ingest/scope.py.
    scope: WriteScope | None = None
    # Touches already stored for this batch: a chunk only writes the ones that are new.
    recorded_touches: set[tuple[int, date]] = field(default_factory=set)
    # A finished QA review's batch: its qa_score is the review's, which feeds' scores never
    # overwrite afterwards.
    review: bool = False
    # Whether most rows of the last chunk needed validating (so the next are validated ahead).
    expects_changes: bool = False
    # Called last inside each chunk's transaction, so what it saves (the batch's counters, the
    # run's lease) commits with the chunk's facts or not at all; raising rolls the chunk back.
    checkpoint: Callable[[PreparedChunk, ChunkOutcome], None] | None = None

    def apply(self, chunk: PreparedChunk) -> ChunkOutcome:
        outcome = ChunkOutcome()
        for line, name, raw_text, message in chunk.feed.problems:
            self._reject(outcome, [RowError(line, name, message)], raw_text)
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
                if "qa_score" in values:
                    self._qa_score_rule(values, current, outcome)
                if self.scope is not None and (errors := self._scope_errors(row, current)):
                    self._reject(outcome, errors, self.reader.text_of(chunk.feed, index))
                    continue
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
            if self.checkpoint is not None:
                self.checkpoint(chunk, outcome)
        self.recorded_touches |= new_touches
        self.expects_changes = 2 * len(pending) > len(chunk.feed.rows)
        outcome.touches = touches
        return outcome

    def _qa_score_rule(self, values: Fact, current: Fact | None, outcome: ChunkOutcome) -> None:
        """Which QA score a fact keeps: a review's wins; a feed's is always kept as the
        feed's, and becomes the score only while no review set one."""
        if self.review:
            values["qa_reviewed"] = True
            return
        values["feed_qa_score"] = values["qa_score"]
        if current is not None and current["qa_reviewed"]:
            del values["qa_score"]
            if current["feed_qa_score"] != values["feed_qa_score"]:
                outcome.qa_kept_aside += 1

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
        # A fact outside the write scope is never skipped: its rows are refused with a reason.
        scope, in_scope = self.scope, self._in_scope
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
                and (scope is None or in_scope(found[1]))
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
            if not known_agent or (channel is not None and channel not in channels):
                errors = self._check_references(row)
                if errors:
                    self._reject(outcome, errors, self.reader.text_of(chunk.feed, index))
                    continue
            parsed.append((row, index))
        return parsed

    def _check_references(self, row: ParsedRow) -> list[RowError]:
        """Every reference problem of a row that failed the quick checks in `_validate`; an
        unknown agent is created here when the source allows it."""
        if row.agent_key is not None:
            if (refusal := self._scope_refuses_new_agent(row)) is not None:
                return [refusal]
            try:
                agent_id = self.directory.resolve(row.agent_key)
            except FeedAgentRefused as refused:
                return [RowError(row.line, "agent", refused.message)]
            if agent_id is not None:
                row.values["agent_id"] = agent_id
        return reference_errors(
            row,
            source=self.batch.source,
            agent_ids=self.directory.agent_ids,
            channels=self.channels,
        )

    def _in_scope(self, agent_id: int) -> bool:
        return self.scope is None or self.scope.covers(self.directory.team_ids.get(agent_id))

    def _scope_errors(self, row: ParsedRow, current: Fact | None) -> list[RowError]:
        """Why a scoped batch may not apply a valid row: the agent it names, or the agent
        whose fact it changes (a partial row too; a reassignment writes both), is outside
        the teams the uploader leads."""
        errors = []
        agent_id = row.values.get("agent_id")
        if agent_id is not None and not self._in_scope(agent_id):
            errors.append(self.scope.agent_refused(row.line, row.agent_key))
        if (
            current is not None
            and current["agent_id"] != agent_id
            and not self._in_scope(current["agent_id"])
        ):
            errors.append(self.scope.fact_refused(row.line, row.external_id))
        return errors

    def _scope_refuses_new_agent(self, row: ParsedRow) -> RowError | None:
        """A scoped batch creates unknown agents only in a team the uploader leads."""
        source = self.batch.source
        if (
            self.scope is None
            or not source.create_unknown_agents
            or row.agent_key.lower() in self.directory.agent_ids
            or self.scope.covers(source.default_team_id)
        ):
            return None
        return self.scope.new_agent_refused(row.line, row.agent_key, source.default_team)

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
        return [_unknown_agent(line, self.batch.source, key.strip())]

    def _reject_incomplete(self, outcome: ChunkOutcome, row: ParsedRow, raw_text: str) -> None:
        missing = [
            name for name in REQUIRED_FOR_NEW if COLUMN_FOR_FIELD.get(name, name) not in row.values
        ]
        errors = [
            row_error(
                row.line,
                name,
                gettext_noop("is required for a new interaction (%(key)s is not known yet)"),
                key=repr(row.external_id),
            )
            for name in missing
        ]
        self._reject(outcome, errors, raw_text)

    def _reject(self, outcome: ChunkOutcome, errors: list[RowError], raw_text: str) -> None:
        outcome.rejected += 1
        for error in errors:
            outcome.errors.append(
                FeedRowError(
                    batch=self.batch,
                    line=error.line,
                    field=error.field,
                    reason=error.reason[:500],
                    reason_message=error.message.as_json(),
                    raw=printable(raw_text[:4000]),
                )
            )

    def _touch(self, fact: Fact) -> tuple[int, date]:
        return fact["agent_id"], self.directory.local_date(fact["agent_id"], fact["started_at"])


def reference_errors(
    row: ParsedRow,
    *,
    source: FeedSource,
    agent_ids: dict[str, int],
    channels: set[str],
) -> list[RowError]:
    """What a valid row refers to that Atendo does not know: its agent (unless the source
    creates unknown agents) or its channel."""
    errors = []
    if (
        row.agent_key is not None
        and agent_ids.get(row.agent_key.lower()) is None
        and not source.create_unknown_agents
    ):
        errors.append(_unknown_agent(row.line, source, row.agent_key))
    channel = row.values.get("channel")
    if channel is not None and channel not in channels:
        errors.append(
            row_error(
                row.line,
                "channel",
                gettext_noop("unknown channel %(channel)s (known: %(known)s)"),
                channel=repr(channel),
                known=", ".join(sorted(channels)),
            )
        )
    return errors


def _unknown_agent(line: int, source: FeedSource, key: str) -> RowError:
    match = FeedSource.AgentMatch(source.agent_match)
    return row_error(
        line,
        "agent",
        UNKNOWN_AGENT[match],
        key=repr(key),
    )


UNKNOWN_AGENT = {
    FeedSource.AgentMatch.EXTERNAL_ID: gettext_noop(
        "unknown agent %(key)s (matched by external id (per source)); add the agent or enable "
        "creating unknown agents"
    ),
    FeedSource.AgentMatch.USERNAME: gettext_noop(
        "unknown agent %(key)s (matched by username); add the agent or enable creating unknown "
        "agents"
    ),
    FeedSource.AgentMatch.EMAIL: gettext_noop(
        "unknown agent %(key)s (matched by e-mail); add the agent or enable creating unknown agents"
    ),
}
