from __future__ import annotations

from pathlib import Path

from performance.models import FeedBatch, FeedSource
from performance.services.ingest import ingest_feed_file


def ingest_text(
    source: FeedSource,
    text: str | bytes,
    tmp_path: Path,
    *,
    format: str | None = None,
    name: str = "feed.csv",
) -> FeedBatch:
    """Write `text` to a file and ingest it through the real service."""
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return ingest_feed_file(path=path, source=source, format=format)


def errors_of(batch: FeedBatch) -> list[tuple[int, str, str]]:
    return list(batch.row_errors.order_by("line", "id").values_list("line", "field", "reason"))


def shared_database_url() -> str:
    """The URL of the test database, for another process to share it (PostgreSQL)."""
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
