"""Mapping a new export onto the feed schema: the first rows of a sample file read exactly as
an ingest would read them (same reader, validator and reference checks), and saving the
chosen way of reading onto the source. Previewing writes nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from performance.feeds import (
    FeedFileError,
    FieldError,
    FieldParsers,
    Message,
    ParsedRow,
    RowError,
    check_workbook,
    detect_encoding,
    feed_headings,
    format_of_name,
    guess_field,
    open_feed,
)
from performance.feeds.rows import column_options_from_json
from performance.models import Channel, FeedSource
from performance.services.ingest.agents import AgentDirectory
from performance.services.ingest.chunks import reference_errors

PREVIEW_ROWS = 20
XLSX = FeedSource.Format.XLSX


@dataclass
class PreviewRow:
    line: int
    # (field, value as Atendo stores it) for a readable row.
    values: list[tuple[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    raw: str = ""


@dataclass
class SamplePreview:
    format: str
    encoding: str = ""
    headings: list[str] = field(default_factory=list)
    # The field each heading is guessed to carry (the source's mapping first).
    guesses: list[str | None] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    error: Message | None = None


def sample_format(name: str, source: FeedSource) -> str:
    return format_of_name(name) or source.format


def feed_sample_preview(
    *,
    source: FeedSource,
    sample: bytes,
    format: str,
    column_mapping: dict[str, str] | None = None,
    column_options: dict[str, Any] | None = None,
    encoding: str | None = None,
    date_order: str | None = None,
) -> SamplePreview:
    """The sample's columns and first rows as an ingest of it into `source` would read them,
    with the given way of reading (the source's own where one is not given)."""
    mapping = source.column_mapping if column_mapping is None else column_mapping
    column_options = source.column_options if column_options is None else column_options
    preview = SamplePreview(format=format)
    try:
        if format == XLSX:
            check_workbook(io.BytesIO(sample))
        else:
            preview.encoding = detect_encoding(io.BytesIO(sample), encoding or source.encoding)
        preview.headings = feed_headings(
            io.BytesIO(sample), format=format, encoding=preview.encoding
        )
    except FeedFileError as exc:
        preview.error = exc.message
        return preview
    lowered = {key.strip().lower(): value for key, value in (source.column_mapping or {}).items()}
    preview.guesses = [
        lowered.get(heading.strip().lower()) or guess_field(heading) for heading in preview.headings
    ]
    try:
        options = column_options_from_json(column_options)
    except FieldError as exc:
        preview.error = exc.message
        return preview
    try:
        reader = open_feed(
            io.BytesIO(sample), format=format, encoding=preview.encoding, mapping=mapping
        )
        parsers = FieldParsers(
            time_zone=ZoneInfo(source.time_zone),
            decimal_comma=reader.decimal_comma,
            day_first=(date_order or source.date_order) == FeedSource.DateOrder.DAY_FIRST,
            options=options,
        )
        validate = reader.validator(parsers)
        chunk = next(reader.chunks(PREVIEW_ROWS), None)
    except FeedFileError as exc:
        preview.error = exc.message
        return preview
    if chunk is None:
        return preview
    channels = set(Channel.objects.values_list("code", flat=True))
    agent_ids = AgentDirectory.for_source(source).agent_ids
    rows = []
    for line, name, raw_text, message in chunk.problems:
        rows.append(PreviewRow(line, errors=[RowError(line, name, message)], raw=raw_text))
    for index, (raw, line) in enumerate(zip(chunk.rows, chunk.lines, strict=True)):
        row = validate(raw, line)
        text = reader.text_of(chunk, index)
        if isinstance(row, list):
            rows.append(PreviewRow(line, errors=row, raw=text))
            continue
        errors = reference_errors(row, source=source, agent_ids=agent_ids, channels=channels)
        rows.append(PreviewRow(line, values=_shown_values(row), errors=errors, raw=text))
    preview.rows = sorted(rows, key=lambda row: row.line)
    return preview


def _shown_values(row: ParsedRow) -> list[tuple[str, Any]]:
    values: list[tuple[str, Any]] = [("external_id", row.external_id)]
    if row.agent_key is not None:
        values.append(("agent", row.agent_key))
    for name, value in row.values.items():
        if isinstance(value, datetime):
            value = value.isoformat().replace("+00:00", "Z")
        values.append((name, value))
    return values


@transaction.atomic
def feed_source_set_reading(
    *,
    source: FeedSource,
    column_mapping: dict[str, str],
    column_options: dict[str, Any],
    encoding: str,
    date_order: str,
) -> FeedSource:
    """Save how a source's files are read (checked as the admin form checks it)."""
    source.column_mapping = column_mapping
    source.column_options = column_options
    source.encoding = encoding
    source.date_order = date_order
    source.full_clean()
    source.save(update_fields=["column_mapping", "column_options", "encoding", "date_order"])
    return source
