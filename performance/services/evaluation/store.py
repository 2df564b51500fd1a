"""Writing evaluations in bulk, one implementation per database (like fact_store for facts).

The engine streams judged rows; a store writes the ones that differ from what is stored and
reports the ids it created and updated. On PostgreSQL the rows go by binary COPY into a
session-temporary stage; the database drops the unchanged ones from it and merges the rest
with one INSERT ... ON CONFLICT, so nothing comes back but the ids of changed rows.
Elsewhere the stored rows of the range are read and compared in Python, then created and
updated in batches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg
from django.db import connection

from performance.models import Evaluation

# agent_id, standard_id, period_start, version_id, period_end, value, sample_size, outcome,
# gate_passed, points
JudgedRow = tuple
COLUMNS = (
    "agent_id",
    "standard_id",
    "period_start",
    "version_id",
    "period_end",
    "value",
    "sample_size",
    "outcome",
    "gate_passed",
    "points",
)
KEY_COLUMNS = COLUMNS[:3]
JUDGEMENT_COLUMNS = COLUMNS[3:]
# PostgreSQL types of COLUMNS, for binary COPY (a test checks them against the table).
COPY_TYPES = ("int8", "int8", "date", "int8", "date", "float8", "int4", "text", "bool", "int4")
TABLE = Evaluation._meta.db_table
WRITE_BATCH = 5000
MERGE_WORK_MEM = "64MB"


@dataclass
class Written:
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    unchanged: int = 0


class EvaluationStore:
    def write(
        self,
        chunks: Iterable[list[JudgedRow]],
        *,
        standard_ids: Collection[int],
        period_starts: tuple[date, date],
        agent_ids: Collection[int] | None,
        now: datetime,
    ) -> Written:
        """Upsert judged rows, all of whose keys lie within the standards, the period
        starts (first, last, inclusive) and the agents (None: any) given."""
        raise NotImplementedError


class PortableEvaluationStore(EvaluationStore):
    def write(
        self,
        chunks: Iterable[list[JudgedRow]],
        *,
        standard_ids: Collection[int],
        period_starts: tuple[date, date],
        agent_ids: Collection[int] | None,
        now: datetime,
    ) -> Written:
        judged = {row[:3]: row[3:] for chunk in chunks for row in chunk}
        written = Written()
        if not judged:
            return written
        stored = Evaluation.objects.filter(
            standard_id__in=list(standard_ids),
            period_start__gte=period_starts[0],
            period_start__lte=period_starts[1],
        )
        if agent_ids is not None:
            stored = stored.filter(agent_id__in=list(agent_ids))
        existing = {
            tuple(row[1:4]): (row[0], tuple(row[4:]))
            for row in stored.values_list("id", *KEY_COLUMNS, *JUDGEMENT_COLUMNS)
        }
        to_create: list[Evaluation] = []
        to_update: list[Evaluation] = []
        for key, judgement in judged.items():
            found = existing.get(key)
            if found and found[1] == judgement:
                written.unchanged += 1
                continue
            evaluation = Evaluation(
                id=found[0] if found else None,
                **dict(zip(KEY_COLUMNS, key, strict=True)),
                **dict(zip(JUDGEMENT_COLUMNS, judgement, strict=True)),
                computed_at=now,
            )
            (to_update if found else to_create).append(evaluation)
        for start in range(0, len(to_create), WRITE_BATCH):
            Evaluation.objects.bulk_create(to_create[start : start + WRITE_BATCH])
        Evaluation.objects.bulk_update(
            to_update,
            [name.removesuffix("_id") for name in JUDGEMENT_COLUMNS] + ["computed_at"],
            batch_size=WRITE_BATCH,
        )
        written.created_ids = [evaluation.id for evaluation in to_create]
        written.updated_ids = [evaluation.id for evaluation in to_update]
        return written


class PostgresEvaluationStore(EvaluationStore):
    STAGE = "evaluation_stage"

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor]:
        """A psycopg cursor in the Django connection's transaction (see fact_store)."""
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            yield cursor

    def write(
        self,
        chunks: Iterable[list[JudgedRow]],
        *,
        standard_ids: Collection[int],
        period_starts: tuple[date, date],
        agent_ids: Collection[int] | None,
        now: datetime,
    ) -> Written:
        written = Written()
        columns = ", ".join(COLUMNS)
        with self._cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {self.STAGE} "
                f"AS SELECT {columns} FROM {TABLE} WITH NO DATA"
            )
            # Not ON COMMIT DELETE ROWS: a write may be a savepoint inside a longer
            # transaction (tests, a caller's atomic block); emptied before and after.
            cursor.execute(f"TRUNCATE {self.STAGE}")
            staged = 0
            with cursor.copy(f"COPY {self.STAGE} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(COPY_TYPES)
                write_row = copy.write_row
                for chunk in chunks:
                    for row in chunk:
                        write_row(row)
                    staged += len(chunk)
            if not staged:
                return written
            # The plans below depend on how many rows there are to compare, and their hash
            # joins on the memory they may use.
            cursor.execute(f"ANALYZE {self.STAGE}")
            cursor.execute("SELECT set_config('work_mem', %s, true)", [MERGE_WORK_MEM])
            same_key = " AND ".join(f"stored.{c} = staged.{c}" for c in KEY_COLUMNS)
            stored, staged_values, excluded = (
                ", ".join(f"{prefix}.{c}" for c in JUDGEMENT_COLUMNS)
                for prefix in ("stored", "staged", "EXCLUDED")
            )
            # Unchanged judgements leave the stage first, in a statement of their own: joined
            # inside the INSERT, the table would grow under a plan made for its size before
            # (a first run on an empty table would compare each row with every row written).
            cursor.execute(
                f"DELETE FROM {self.STAGE} AS staged USING {TABLE} AS stored "
                f"WHERE {same_key} AND ({stored}) IS NOT DISTINCT FROM ({staged_values})"
            )
            assignments = ", ".join(
                f"{c} = EXCLUDED.{c}" for c in (*JUDGEMENT_COLUMNS, "computed_at")
            )
            # The conflict clause also skips rows another run wrote the same way meanwhile.
            # xmax is 0 on a row this statement inserted.
            merge = (
                f"INSERT INTO {TABLE} AS stored ({columns}, computed_at) "
                f"SELECT {columns}, %s FROM {self.STAGE} "
                f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {assignments} "
                f"WHERE ({stored}) IS DISTINCT FROM ({excluded}) "
                "RETURNING stored.id, stored.xmax = 0"
            )
            for evaluation_id, created in cursor.stream(merge, [now], binary=True, size=10_000):
                (written.created_ids if created else written.updated_ids).append(evaluation_id)
            cursor.execute(f"TRUNCATE {self.STAGE}")
        written.unchanged = staged - len(written.created_ids) - len(written.updated_ids)
        return written


def evaluation_store() -> EvaluationStore:
    if connection.vendor == "postgresql":
        return PostgresEvaluationStore()
    return PortableEvaluationStore()
