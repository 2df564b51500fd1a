"""Writing many new rows fast: on PostgreSQL by COPY, with their ids reserved from the
table's sequence beforehand (COPY returns nothing), elsewhere by the ORM's bulk_create.
For rows of plain columns (numbers, text, dates, times, foreign keys): what a value is
becomes the database's adapter's business, not Django's per-field preparation, which costs
more than the COPY itself on a first derivation of thousands of rows. Beside them, what raw
statements over such tables share: IN lists, statistics after a bulk write, dates read back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import connection, models


def _insert_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def instances_insert(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Insert new `instances` of `model`, setting each one's pk, in the caller's
    transaction."""
    if not instances:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances)
        return
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    fields = _insert_fields(model)
    stamped = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(instances)],
        )
        for instance, (pk,) in zip(instances, cursor.fetchall(), strict=True):
            instance.pk = pk
            for field in stamped:
                field.pre_save(instance, add=True)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in [meta.pk, *fields])
        attributes = [meta.pk.attname, *(f.attname for f in fields)]
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for instance in instances:
                copy.write_row([getattr(instance, name) for name in attributes])
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def rows_insert(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert plain rows (values in the order of `columns`, the fields' column names) into
    `model`'s table, in the caller's transaction: COPY on PostgreSQL, else one executemany."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))


# A table's statistics after a bulk write: autovacuum refreshes them in a minute or so, but
# the flow plans its next queries at once (reconciliation reads the evaluations just written,
# a run's next chunk reads the ledger its last chunk grew), and a plan made for a table
# believed empty scans all of it once per chunk.
STATISTICS_MIN_ROWS = 5_000
STATISTICS_GROWTH = 0.5


def statistics_refresh(model: type[models.Model], written: int) -> bool:
    """On PostgreSQL, ANALYZE `model`'s table when `written` rows (since the caller last
    refreshed) reach half the rows its statistics hold; whether it did. Other databases
    keep no such statistics."""
    if connection.vendor != "postgresql" or written < STATISTICS_MIN_ROWS:
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        (believed,) = cursor.fetchone()
        if written < STATISTICS_GROWTH * max(believed, 0):
            return False
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True


def sql_in(column: str, values: Sequence) -> tuple[str, list]:
    """`column IN (%s, ...)` for a raw statement, with its parameters."""
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def row_date(value: date | str | None) -> date | None:
    """A date column's value as a raw query returns it: SQLite gives its ISO text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
