"""The database's guard on the ledger: triggers refuse UPDATE and DELETE on
rewards_pointsentry (created by migration 0002).

On PostgreSQL, `flush` empties tables with TRUNCATE, which row triggers do not see. SQLite
has no TRUNCATE: its `flush` runs DELETE FROM, so its delete trigger asks the SQL function
`atendo_ledger_wipe_allowed()`, registered on every Django connection and false except
inside `ledger_wipe_allowed()`, the context in which a whole-database flush may run. A
client without the function cannot delete entries at all.

SQLite drops a table's triggers when a migration rebuilds the table: a later migration that
alters rewards_pointsentry must run LEDGER_TRIGGERS_SQL again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_wipe_allowed = False

LEDGER_TRIGGERS_SQL = {
    "postgresql": [
        """
        CREATE OR REPLACE FUNCTION rewards_pointsentry_refuse_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'rewards_pointsentry is append-only: % refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER rewards_pointsentry_append_only
        BEFORE UPDATE OR DELETE ON rewards_pointsentry
        FOR EACH ROW EXECUTE FUNCTION rewards_pointsentry_refuse_change()
        """,
    ],
    "sqlite": [
        """
        CREATE TRIGGER rewards_pointsentry_no_update BEFORE UPDATE ON rewards_pointsentry
        BEGIN SELECT RAISE(ABORT, 'rewards_pointsentry is append-only: UPDATE refused'); END
        """,
        """
        CREATE TRIGGER rewards_pointsentry_no_delete BEFORE DELETE ON rewards_pointsentry
        WHEN NOT atendo_ledger_wipe_allowed()
        BEGIN SELECT RAISE(ABORT, 'rewards_pointsentry is append-only: DELETE refused'); END
        """,
    ],
}

LEDGER_TRIGGERS_DROP_SQL = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS rewards_pointsentry_append_only ON rewards_pointsentry",
        "DROP FUNCTION IF EXISTS rewards_pointsentry_refuse_change()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS rewards_pointsentry_no_update",
        "DROP TRIGGER IF EXISTS rewards_pointsentry_no_delete",
    ],
}


@contextmanager
def ledger_wipe_allowed() -> Iterator[None]:
    """Let SQLite's delete trigger pass: only for emptying the whole database (flush)."""
    global _wipe_allowed
    previous, _wipe_allowed = _wipe_allowed, True
    try:
        yield
    finally:
        _wipe_allowed = previous


def register_sqlite_guard(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created receiver: give SQLite connections the trigger's function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "atendo_ledger_wipe_allowed", 0, lambda: int(_wipe_allowed), deterministic=False
        )
