"""Reading and writing Interaction facts in bulk, one implementation per database.

The ingest service decides what changes; a store looks up the current facts of a chunk's
keys and writes final rows. On PostgreSQL it talks to psycopg directly (server-side
binding, binary results and binary COPY: the ORM and client-side quoting cost more than
the database work), copies facts the service knows to be new straight into the facts
table, and stages changed facts with COPY to merge them with one INSERT ... ON CONFLICT
per chunk. SQLite uses batched upserts.

Every write of a fact goes through `write`, which also stores the digest of the feed row
that set it (see `Interaction.row_digest`). Anything else that writes facts must leave
row_digest NULL (a fact without a digest is always validated and merged in full).
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import psycopg
from django.db import connection

from performance.feeds import CANONICAL_FIELDS
from performance.models import FeedBatchTouch, Interaction

# The canonical fields a fact stores, in feed order, with the agent resolved to its id, then
# what no feed row carries: the feeds' QA score kept beside a review's, and whether one set it.
FACT_FIELDS = (
    *(
        "agent_id" if name == "agent" else name
        for name in CANONICAL_FIELDS
        if name != "external_id"
    ),
    "feed_qa_score",
    "qa_reviewed",
)
WRITE_COLUMNS = ("source_id", "external_id", *FACT_FIELDS, "row_digest", "batch_id", "updated_at")
# PostgreSQL types of WRITE_COLUMNS, for binary COPY (a test checks them against the table).
COPY_TYPES = (
    "int8",
    "text",
    "int8",
    "text",
    "timestamptz",
    "timestamptz",
    "float8",
    "float8",
    "float8",
    "text",
    "bool",
    "bool",
    "bool",
    "bool",
    "bool",
    "int2",
    "int2",
    "int2",
    "float8",
    "float8",
    "float8",
    "bool",
    "bytea",
    "int8",
    "timestamptz",
)
UPDATED_COLUMNS = WRITE_COLUMNS[2:]
CASE_ID = WRITE_COLUMNS.index("case_id")
TABLE = Interaction._meta.db_table
TOUCH_TABLE = FeedBatchTouch._meta.db_table
SQLITE_SLICE = 5000
KEY_SEPARATOR = "\x1f"

Fact = dict[str, Any]
# What the store knows of a fact without reading it whole: the digest of the row that
# last set it and its agent.
Stored = tuple[bytes | None, int]


def _from_db(row: tuple) -> Fact:
    fact = dict(zip(FACT_FIELDS, row[1:], strict=True))
    if fact["case_id"] == "":
        fact["case_id"] = None
    return fact


def _db_rows(
    source_id: int,
    facts: dict[str, Fact],
    digests: dict[str, bytes | None],
    batch_id: int,
    now: datetime,
) -> Iterator[list[Any]]:
    """Rows in WRITE_COLUMNS order; a missing case_id is stored as '' (the column is NOT NULL)."""
    values_of = operator.itemgetter(*FACT_FIELDS)
    for external_id, fact in facts.items():
        row = [source_id, external_id, *values_of(fact), digests.get(external_id), batch_id, now]
        if row[CASE_ID] is None:
            row[CASE_ID] = ""
        yield row


class FactStore:
    def lock_source(self, source_id: int) -> None:
        """SQLite transactions are IMMEDIATE, so writers are already serialised."""

    def probe(self, source_id: int, external_ids: Collection[str]) -> dict[str, Stored]:
        """Which of these keys have a fact, with its row digest and agent."""
        return {
            key: (digest, agent_id)
            for key, digest, agent_id in self._select(
                source_id, external_ids, ("row_digest", "agent_id")
            )
        }

    def fetch(self, source_id: int, external_ids: Collection[str]) -> dict[str, Fact]:
        return {row[0]: _from_db(row) for row in self._select(source_id, external_ids, FACT_FIELDS)}

    def _select(
        self, source_id: int, external_ids: Collection[str], columns: Collection[str]
    ) -> Iterator[tuple]:
        keys = list(external_ids)
        for start in range(0, len(keys), SQLITE_SLICE):
            yield from Interaction.objects.filter(
                source_id=source_id, external_id__in=keys[start : start + SQLITE_SLICE]
            ).values_list("external_id", *columns)

    def write(
        self,
        source_id: int,
        *,
        created: dict[str, Fact],
        updated: dict[str, Fact],
        digests: dict[str, bytes | None],
        batch_id: int,
        now: datetime,
    ) -> None:
        """Store final facts: `created` keys are not in the table yet, `updated` keys are."""
        raise NotImplementedError

    def record_touches(self, batch_id: int, touches: Collection[tuple[int, date]]) -> None:
        """Remember the (agent, local date) pairs a batch changed; known pairs are skipped."""
        if not touches:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {TOUCH_TABLE} (batch_id, agent_id, local_date) VALUES (%s, %s, %s) "
                "ON CONFLICT (batch_id, agent_id, local_date) DO NOTHING",
                [(batch_id, agent_id, local_date) for agent_id, local_date in touches],
            )


class SQLiteFactStore(FactStore):
    def write(
        self,
        source_id: int,
        *,
        created: dict[str, Fact],
        updated: dict[str, Fact],
        digests: dict[str, bytes | None],
        batch_id: int,
        now: datetime,
    ) -> None:
        rows = [
            *_db_rows(source_id, created, digests, batch_id, now),
            *_db_rows(source_id, updated, digests, batch_id, now),
        ]
        if not rows:
            return
        adapt = connection.ops.adapt_datetimefield_value
        for row in rows:
            for position, value in enumerate(row):
                if isinstance(value, datetime):
                    row[position] = adapt(value)
        columns = ", ".join(WRITE_COLUMNS)
        placeholders = ", ".join(["%s"] * len(WRITE_COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in UPDATED_COLUMNS)
        sql = (
            f"INSERT INTO {TABLE} ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT (source_id, external_id) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


class PostgresFactStore(FactStore):
    STAGE = "interaction_stage"

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor]:
        """A server-binding psycopg cursor in the Django connection's transaction (Django's
        own cursors quote parameters client-side, slow for arrays of thousands of keys)."""
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            yield cursor

    def lock_source(self, source_id: int) -> None:
        """Serialise batches of one source for the rest of the transaction, so keys
        looked up as missing are still missing when they are written."""
        with self._cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7301, source_id])

    def _select(
        self, source_id: int, external_ids: Collection[str], columns: Collection[str]
    ) -> Iterator[tuple]:
        if not external_ids:
            return
        # One index lookup per key, whatever the statistics say: during a big first load
        # they still describe an empty table, and a plain `external_id = ANY(...)` then
        # gets a plan that filters every fact of the source for each chunk. JIT would
        # cost more than the lookups (the planner counts thousands of them).
        keys = list(external_ids)
        joined = KEY_SEPARATOR.join(keys)
        if joined.count(KEY_SEPARATOR) == len(keys) - 1:
            # One string is much cheaper to send than an array, which psycopg dumps
            # element by element in Python.
            keys_sql, parameters = "string_to_array(%s, %s)", [joined, KEY_SEPARATOR]
        else:
            keys_sql, parameters = "%b::text[]", [keys]
        selected = ", ".join(f"f.{column}" for column in columns)
        with self._cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                f"SELECT k.external_id, {selected} FROM unnest({keys_sql}) AS k(external_id) "
                f"CROSS JOIN LATERAL (SELECT * FROM {TABLE} WHERE source_id = %s "
                "AND external_id = k.external_id LIMIT 1) AS f",
                [*parameters, source_id],
                binary=True,
            )
            yield from cursor.fetchall()

    def write(
        self,
        source_id: int,
        *,
        created: dict[str, Fact],
        updated: dict[str, Fact],
        digests: dict[str, bytes | None],
        batch_id: int,
        now: datetime,
    ) -> None:
        columns = ", ".join(WRITE_COLUMNS)
        with self._cursor() as cursor:
            if created:
                self._copy(cursor, TABLE, _db_rows(source_id, created, digests, batch_id, now))
            if updated:
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {self.STAGE} "
                    f"AS SELECT {columns} FROM {TABLE} WITH NO DATA"
                )
                self._copy(cursor, self.STAGE, _db_rows(source_id, updated, digests, batch_id, now))
                assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATED_COLUMNS)
                cursor.execute(
                    f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {self.STAGE} "
                    f"ON CONFLICT (source_id, external_id) DO UPDATE SET {assignments}"
                )
                # Not ON COMMIT DELETE ROWS: a chunk may be a savepoint inside a longer
                # transaction (tests, a caller's atomic block).
                cursor.execute(f"TRUNCATE {self.STAGE}")

    @staticmethod
    def _copy(cursor: psycopg.Cursor, table: str, rows: Iterator[list[Any]]) -> None:
        with cursor.copy(
            f"COPY {table} ({', '.join(WRITE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)

    def record_touches(self, batch_id: int, touches: Collection[tuple[int, date]]) -> None:
        if not touches:
            return
        agent_ids, local_dates = zip(*touches, strict=True)
        with self._cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TOUCH_TABLE} (batch_id, agent_id, local_date) "
                "SELECT %s, * FROM unnest(%b::int8[], %b::date[]) "
                "ON CONFLICT (batch_id, agent_id, local_date) DO NOTHING",
                [batch_id, list(agent_ids), list(local_dates)],
            )


def fact_store() -> FactStore:
    if connection.vendor == "postgresql":
        return PostgresFactStore()
    return SQLiteFactStore()
