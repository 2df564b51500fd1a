"""Writing evaluations in bulk, one implementation per database (like fact_store for facts).

The engine streams judged rows and names the scope it scored; a store writes the rows that
differ from what is stored, deletes the stored rows of the scope the run did not produce (the
run's rows are the whole truth of its scope), and reports what it created, updated and
deleted. On PostgreSQL the rows go by binary COPY into a session-temporary stage; one DELETE
removes the scope's rows missing from the stage, the database drops the unchanged ones from
the stage and merges the rest with one INSERT ... ON CONFLICT, so nothing comes back but the
ids of changed rows. Elsewhere the stored rows of the scope are read and compared in Python,
then created, updated and deleted in batches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import psycopg
from django.db import connection
from django.db.models import Q

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
# The longest period (a month): a row whose period ends after a day starts at most this long
# before it, which bounds the index range a scope reads.
LONGEST_PERIOD = timedelta(days=31)


@dataclass(frozen=True)
class Span:
    """Days [first, end) of one standard that a run scored as a whole: every stored row of
    the standard whose period overlaps them is the run's to write or delete."""

    standard_id: int
    first: date
    end: date


@dataclass(frozen=True)
class Scope:
    """What a run scored: spans of standards' days, for these agents (None: every agent)."""

    spans: tuple[Span, ...]
    agent_ids: tuple[int, ...] | None = None

    def q(self) -> Q:
        """The stored evaluations within the scope."""
        within = Q(pk__in=[])
        for span in self.spans:
            within |= Q(
                standard_id=span.standard_id,
                period_start__gte=span.first - LONGEST_PERIOD,
                period_start__lt=span.end,
                period_end__gt=span.first,
            )
        if self.agent_ids is not None:
            within &= Q(agent_id__in=self.agent_ids)
        return within


@dataclass
class Written:
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    unchanged: int = 0
    deleted: int = 0
    # Agents any of whose rows were created, updated or deleted.
    agent_ids: set[int] = field(default_factory=set)
    # The first and last period start of the deleted rows.
    deleted_starts: tuple[date, date] | None = None

    def deleted_rows(self, starts: Collection[date], agent_ids: Iterable[int]) -> None:
        if starts:
            self.deleted += len(starts)
            self.deleted_starts = (min(starts), max(starts))
            self.agent_ids.update(agent_ids)


class EvaluationStore:
    def write(self, chunks: Iterable[list[JudgedRow]], *, scope: Scope, now: datetime) -> Written:
        """Upsert judged rows, all of whose keys lie within `scope`, and delete the rows of
        the scope that are not among them."""
        raise NotImplementedError


class PortableEvaluationStore(EvaluationStore):
    def write(self, chunks: Iterable[list[JudgedRow]], *, scope: Scope, now: datetime) -> Written:
        judged = {row[:3]: row[3:] for chunk in chunks for row in chunk}
        written = Written()
        existing = {
            tuple(row[1:4]): (row[0], tuple(row[4:]))
            for row in Evaluation.objects.filter(scope.q()).values_list(
                "id", *KEY_COLUMNS, *JUDGEMENT_COLUMNS
            )
        }
        stale = [(key, found[0]) for key, found in existing.items() if key not in judged]
        for start in range(0, len(stale), WRITE_BATCH):
            batch = stale[start : start + WRITE_BATCH]
            Evaluation.objects.filter(id__in=[evaluation_id for _, evaluation_id in batch]).delete()
        written.deleted_rows([key[2] for key, _ in stale], (key[0] for key, _ in stale))
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
        written.agent_ids.update(evaluation.agent_id for evaluation in to_create + to_update)
        return written


class PostgresEvaluationStore(EvaluationStore):
    STAGE = "evaluation_stage"

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor]:
        """A psycopg cursor in the Django connection's transaction (see fact_store)."""
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            yield cursor

    def write(self, chunks: Iterable[list[JudgedRow]], *, scope: Scope, now: datetime) -> Written:
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
            # The plans below depend on how many rows there are to compare, and their hash
            # joins on the memory they may use.
            cursor.execute(f"ANALYZE {self.STAGE}")
            cursor.execute("SELECT set_config('work_mem', %s, true)", [MERGE_WORK_MEM])
            same_key = " AND ".join(f"stored.{c} = staged.{c}" for c in KEY_COLUMNS)
            self._delete_stale(cursor, scope, same_key, written)
            if not staged:
                cursor.execute(f"TRUNCATE {self.STAGE}")
                return written
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
                "RETURNING stored.id, stored.xmax = 0, stored.agent_id"
            )
            changed_agents = written.agent_ids
            for evaluation_id, created, agent_id in cursor.stream(
                merge, [now], binary=True, size=10_000
            ):
                (written.created_ids if created else written.updated_ids).append(evaluation_id)
                changed_agents.add(agent_id)
            cursor.execute(f"TRUNCATE {self.STAGE}")
        written.unchanged = staged - len(written.created_ids) - len(written.updated_ids)
        return written

    def _delete_stale(
        self, cursor: psycopg.Cursor, scope: Scope, same_key: str, written: Written
    ) -> None:
        """One statement: the scope's stored rows that the (whole) stage does not hold."""
        if not scope.spans:
            return
        agents = "" if scope.agent_ids is None else "AND stored.agent_id = ANY(%s::int8[]) "
        cursor.execute(
            f"WITH gone AS (DELETE FROM {TABLE} AS stored "
            "USING unnest(%s::int8[], %s::date[], %s::date[], %s::date[]) "
            "AS span(standard_id, lowest, first, stop) "
            "WHERE stored.standard_id = span.standard_id AND stored.period_start >= span.lowest "
            "AND stored.period_start < span.stop AND stored.period_end > span.first "
            f"{agents}"
            f"AND NOT EXISTS (SELECT FROM {self.STAGE} AS staged WHERE {same_key}) "
            "RETURNING stored.agent_id, stored.period_start) "
            "SELECT count(*), min(period_start), max(period_start), "
            "coalesce(array_agg(DISTINCT agent_id), '{}') FROM gone",
            [
                [span.standard_id for span in scope.spans],
                [span.first - LONGEST_PERIOD for span in scope.spans],
                [span.first for span in scope.spans],
                [span.end for span in scope.spans],
                *([] if scope.agent_ids is None else [list(scope.agent_ids)]),
            ],
        )
        deleted, first, last, agent_ids = cursor.fetchone()
        if deleted:
            written.deleted = deleted
            written.deleted_starts = (first, last)
            written.agent_ids.update(agent_ids)


def evaluation_store() -> EvaluationStore:
    if connection.vendor == "postgresql":
        return PostgresEvaluationStore()
    return PortableEvaluationStore()
