"""Reading and writing Interaction facts in bulk, one implementation per database.

The ingest service decides what changes; a store only fetches the current facts for a
set of keys and writes final rows. PostgreSQL stages rows with COPY and merges them with
one INSERT ... ON CONFLICT per chunk; SQLite uses batched upserts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection

from performance.models import Interaction

FACT_FIELDS = (
    "agent_id",
    "channel",
    "started_at",
    "ended_at",
    "handle_seconds",
    "first_response_seconds",
    "wait_seconds",
    "case_id",
    "resolved",
    "first_contact_resolution",
    "transferred",
    "escalated",
    "abandoned",
    "csat",
    "nps",
    "ces",
    "qa_score",
)
WRITE_COLUMNS = ("source_id", "external_id", *FACT_FIELDS, "batch_id", "updated_at")
TABLE = Interaction._meta.db_table
FETCH_SLICE = 5000

Fact = dict[str, Any]


def _from_db(row: tuple) -> Fact:
    fact = dict(zip(FACT_FIELDS, row[1:], strict=True))
    if fact["case_id"] == "":
        fact["case_id"] = None
    return fact


def _to_db_row(source_id: int, external_id: str, fact: Fact, batch_id: int, now: datetime) -> tuple:
    values = [fact.get(name) for name in FACT_FIELDS]
    values[FACT_FIELDS.index("case_id")] = fact.get("case_id") or ""
    return (source_id, external_id, *values, batch_id, now)


class FactStore:
    def fetch(self, source_id: int, external_ids: Iterable[str]) -> dict[str, Fact]:
        keys = list(external_ids)
        found: dict[str, Fact] = {}
        for start in range(0, len(keys), FETCH_SLICE):
            rows = Interaction.objects.filter(
                source_id=source_id, external_id__in=keys[start : start + FETCH_SLICE]
            ).values_list("external_id", *FACT_FIELDS)
            for row in rows:
                found[row[0]] = _from_db(row)
        return found

    def write(
        self, source_id: int, facts: dict[str, Fact], *, batch_id: int, now: datetime
    ) -> None:
        raise NotImplementedError

    def lock_source(self, source_id: int) -> None:
        """SQLite transactions are IMMEDIATE, so writers are already serialised."""


class SQLiteFactStore(FactStore):
    def write(
        self, source_id: int, facts: dict[str, Fact], *, batch_id: int, now: datetime
    ) -> None:
        if not facts:
            return
        adapt = connection.ops.adapt_datetimefield_value
        rows = []
        for external_id, fact in facts.items():
            row = list(_to_db_row(source_id, external_id, fact, batch_id, now))
            for position in range(len(WRITE_COLUMNS)):
                if isinstance(row[position], datetime):
                    row[position] = adapt(row[position])
            rows.append(row)
        columns = ", ".join(WRITE_COLUMNS)
        placeholders = ", ".join(["%s"] * len(WRITE_COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in (*FACT_FIELDS, "batch_id", "updated_at"))
        sql = (
            f"INSERT INTO {TABLE} ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT (source_id, external_id) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


class PostgresFactStore(FactStore):
    STAGE = "interaction_stage"

    def fetch(self, source_id: int, external_ids: Iterable[str]) -> dict[str, Fact]:
        keys = list(external_ids)
        if not keys:
            return {}
        columns = ", ".join(FACT_FIELDS)
        sql = (
            f"SELECT external_id, {columns} FROM {TABLE} "
            "WHERE source_id = %s AND external_id = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [source_id, keys])
            return {row[0]: _from_db(row) for row in cursor.fetchall()}

    def write(
        self, source_id: int, facts: dict[str, Fact], *, batch_id: int, now: datetime
    ) -> None:
        if not facts:
            return
        columns = ", ".join(WRITE_COLUMNS)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*FACT_FIELDS, "batch_id", "updated_at"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {self.STAGE} "
                f"(LIKE {TABLE} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cursor.cursor.copy(f"COPY {self.STAGE} ({columns}) FROM STDIN") as copy:
                for external_id, fact in facts.items():
                    copy.write_row(_to_db_row(source_id, external_id, fact, batch_id, now))
            cursor.execute(
                f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {self.STAGE} "
                f"ON CONFLICT (source_id, external_id) DO UPDATE SET {updates}"
            )

    def lock_source(self, source_id: int) -> None:
        """Serialise concurrent batches of one source for the rest of the transaction."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7301, source_id])


def fact_store() -> FactStore:
    if connection.vendor == "postgresql":
        return PostgresFactStore()
    return SQLiteFactStore()
