"""KPI feeds without the database: the canonical fields and their validation (rows), reading
whole files (files) and synthetic feeds (synthetic)."""

from performance.feeds.files import (
    CountingReader,
    FeedChunk,
    FeedReader,
    check_utf8,
    open_feed,
    row_digest_key,
)
from performance.feeds.rows import (
    CANONICAL_FIELDS,
    REQUIRED_FOR_NEW,
    CellValidator,
    FeedFileError,
    FieldParsers,
    ParsedRow,
    RowError,
    derive_handle_seconds,
    validate_row,
)

__all__ = [
    "CANONICAL_FIELDS",
    "REQUIRED_FOR_NEW",
    "CellValidator",
    "CountingReader",
    "FeedChunk",
    "FeedFileError",
    "FeedReader",
    "FieldParsers",
    "ParsedRow",
    "RowError",
    "check_utf8",
    "derive_handle_seconds",
    "open_feed",
    "row_digest_key",
    "validate_row",
]
