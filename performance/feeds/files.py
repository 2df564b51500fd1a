"""Feed files: decoding, dialect, columns, chunks and row digests.

Pure: a text stream comes in, chunks of raw rows (with their line numbers and digests) come
out. Nothing touches the database.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import itertools
import json
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from performance.feeds.rows import (
    CANONICAL_FIELDS,
    REQUIRED_FOR_NEW,
    CellValidator,
    FeedFileError,
    FieldError,
    FieldParsers,
    ParsedRow,
    RowError,
    optional_text,
    validate_row,
)


class CountingReader(io.RawIOBase):
    """Counts bytes read from a binary file so progress can be reported while parsing."""

    def __init__(self, raw: io.BufferedIOBase):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = self.raw.readinto(buffer)
        self.bytes_read += size
        return size


def check_utf8(stream: IO[bytes], chunk_size: int = 1 << 20) -> None:
    """Raise FeedFileError at the first undecodable byte, naming its line and offset."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0
    while chunk := stream.read(chunk_size):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            line = lines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
            raise FeedFileError(
                f"the file is not UTF-8 text (undecodable byte on line {line}, byte offset "
                f"{offset + max(exc.start, 0)}); export it as UTF-8"
            ) from None
        offset += len(chunk)
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FeedFileError(
            "the file is not UTF-8 text (it ends inside a character); export it as UTF-8"
        ) from None


@dataclass
class FeedChunk:
    """Consecutive rows of a feed: the readable ones, and the ones that cannot be read."""

    # A raw row is a dict of canonical fields (JSON Lines) or the list of a CSV row's
    # cells in column order, the reader's `fields` naming each column's canonical field.
    rows: list[Any] = field(default_factory=list)
    # The line each row starts on.
    lines: list[int] = field(default_factory=list)
    # The raw text of each row (JSON Lines); a CSV row's is rebuilt when it is needed.
    texts: list[str] | None = None
    # (line, raw text, why) of each row that cannot be read at all.
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.problems)


@dataclass
class FeedReader:
    """Reads a stored feed in chunks of rows."""

    chunks: Callable[[int], Iterator[FeedChunk]]
    decimal_comma: bool
    columns: list[str]
    fields: list[str | None] | None = None
    delimiter: str = ","

    def validator(self, parsers: FieldParsers) -> Callable[[Any, int], ParsedRow | list[RowError]]:
        if self.fields is None:
            return lambda raw, line: validate_row(raw, line=line, parsers=parsers)
        return CellValidator(self.fields, parsers)

    def field_value(self, raw: Any, name: str) -> Any:
        if self.fields is None:
            return raw.get(name)
        return raw[self.fields.index(name)] if name in self.fields else None

    def text_of(self, chunk: FeedChunk, index: int) -> str:
        if chunk.texts is None:
            return self.delimiter.join(chunk.rows[index])
        return chunk.texts[index]

    def identities(self, chunk: FeedChunk, digest_key: bytes) -> RowIdentities:
        if self.fields is None:
            return _json_identities(chunk, digest_key)
        return _cell_identities(chunk, self.fields, digest_key)


# --- recognising a row sent again ----------------------------------------------------------

# Part of every row digest: change it whenever the same text would now be read differently
# (a parsing or validation rule), so rows stored before are validated again.
ROW_DIGEST_VERSION = "1"
ROW_DIGEST_SIZE = 16
CELL_SEPARATOR = "\x1f"

# What the readable rows of a chunk are about, read without validating them: their
# external_ids and agent keys as validation would read them ("" when absent), and a digest
# of each row's text (None when a row cannot be digested unambiguously).
RowIdentities = tuple[list[str], list[str], list[bytes | None]]


def row_digest_key(*context: str) -> bytes:
    """The key under which rows are digested: everything besides a row's own text that
    decides how it is read (format, columns, time zone, decimal comma, known channels)."""
    text = CELL_SEPARATOR.join((ROW_DIGEST_VERSION, *context))
    return hashlib.blake2b(text.encode(), digest_size=32).digest()


def _cell_identities(
    chunk: FeedChunk, fields: list[str | None], digest_key: bytes
) -> RowIdentities:
    # Done for every row of every file, so it is a pipeline of C-level maps.
    rows = chunk.rows
    keys = list(map(str.strip, map(operator.itemgetter(fields.index("external_id")), rows)))
    if "agent" in fields:
        agents = list(map(str.strip, map(operator.itemgetter(fields.index("agent")), rows)))
    else:
        agents = [""] * len(rows)
    digest = functools.partial(hashlib.blake2b, digest_size=ROW_DIGEST_SIZE, key=digest_key)
    joined = list(map(CELL_SEPARATOR.join, rows))
    digests: list[bytes | None] = list(map(_DIGEST, map(digest, map(str.encode, joined))))
    # A cell holding the separator would let two different rows join the same way.
    separators = len(fields) - 1
    if sum(map(_SEPARATORS, joined)) != separators * len(rows):
        digests = [
            value if text.count(CELL_SEPARATOR) == separators else None
            for value, text in zip(digests, joined, strict=True)
        ]
    return keys, agents, digests


_DIGEST = operator.methodcaller("digest")
_SEPARATORS = operator.methodcaller("count", CELL_SEPARATOR)


def _json_identities(chunk: FeedChunk, digest_key: bytes) -> RowIdentities:
    keys, agents, digests = [], [], []
    for raw, text in zip(chunk.rows, chunk.texts or (), strict=True):
        try:
            key = optional_text(raw.get("external_id"))
            agent = optional_text(raw.get("agent"))
        except FieldError:
            key, agent, digest = "", "", None
        else:
            digest = hashlib.blake2b(
                text.encode(), digest_size=ROW_DIGEST_SIZE, key=digest_key
            ).digest()
        keys.append(key)
        agents.append(agent)
        digests.append(digest)
    return keys, agents, digests


def map_columns(names: list[str], mapping: dict[str, str]) -> list[str | None]:
    """Canonical field per source column (None for columns Atendo does not use)."""
    lowered = {key.strip().lower(): value for key, value in mapping.items()}
    canonical = []
    for name in names:
        key = name.strip().lower()
        target = lowered.get(key, key)
        canonical.append(target if target in CANONICAL_FIELDS else None)
    return canonical


def open_csv(text: IO[str], mapping: dict[str, str]) -> FeedReader:
    header_line = text.readline()
    if not header_line:
        raise FeedFileError("the file is empty")
    if not header_line.strip():
        raise FeedFileError("the first line is blank; it must be the header row")
    delimiter = max((";", ",", "\t"), key=header_line.count)
    header = next(csv.reader([header_line], delimiter=delimiter))
    names = [name.strip() for name in header]
    canonical = map_columns(names, mapping)
    _check_columns(names, canonical)
    reader = csv.reader(text, delimiter=delimiter)
    width = len(names)

    def chunks(size: int) -> Iterator[FeedChunk]:
        # A row starts on the line after the previous one (or the header) ends.
        previous_end = 1
        done = False
        while not done:
            chunk = FeedChunk()
            rows, lines, problems = chunk.rows, chunk.lines, chunk.problems
            while not done and chunk.size < size:
                try:
                    for cells in reader:
                        start, previous_end = previous_end + 1, reader.line_num + 1
                        if len(cells) == width:
                            rows.append(cells)
                            lines.append(start)
                        elif len(cells) > 1 or (cells and cells[0].strip()):
                            problems.append(
                                (
                                    start,
                                    delimiter.join(cells),
                                    f"has {len(cells)} columns, the header has {width}",
                                )
                            )
                        else:
                            continue  # a blank line
                        if len(rows) + len(problems) >= size:
                            break
                    else:
                        done = True
                except csv.Error as exc:
                    start, previous_end = previous_end + 1, reader.line_num + 1
                    problems.append((start, "", f"unreadable CSV: {exc}"))
            if chunk.size:
                yield chunk

    return FeedReader(
        chunks=chunks,
        decimal_comma=delimiter == ";",
        columns=names,
        fields=canonical,
        delimiter=delimiter,
    )


def _check_columns(names: list[str], canonical: list[str | None]) -> None:
    present = [c for c in canonical if c]
    duplicates = sorted({c for c in present if present.count(c) > 1})
    if duplicates:
        raise FeedFileError(f"column for {', '.join(duplicates)} appears more than once")
    if "external_id" not in present:
        raise FeedFileError(
            f"required column external_id is missing (columns found: {', '.join(names)})"
        )
    carried = [f for f in REQUIRED_FOR_NEW if f in present]
    if carried and len(carried) != len(REQUIRED_FOR_NEW):
        missing = [f for f in REQUIRED_FOR_NEW if f not in present]
        raise FeedFileError(
            f"required column {', '.join(missing)} is missing (a file that carries "
            f"{', '.join(carried)} must also carry {', '.join(missing)})"
        )
    if len(present) == 1:
        raise FeedFileError("the file carries no field besides external_id")


def open_jsonl(text: IO[str], mapping: dict[str, str]) -> FeedReader:
    lowered = {key.strip().lower(): value for key, value in mapping.items()}
    first_line = text.readline()
    if not first_line.strip():
        raise FeedFileError("the file is empty" if not first_line else "the first line is blank")
    try:
        first = json.loads(first_line)
    except json.JSONDecodeError:
        first = None
    if not isinstance(first, dict):
        raise FeedFileError(
            "the first line is not a JSON object: is this a CSV file? (JSON Lines needs one "
            "object per line)"
        )

    def chunks(size: int) -> Iterator[FeedChunk]:
        chunk = FeedChunk(texts=[])
        for line, raw_line in enumerate(itertools.chain([first_line], text), start=1):
            if not raw_line.strip():
                continue
            raw_text = raw_line.rstrip("\r\n")
            try:
                obj = json.loads(raw_text)
            except json.JSONDecodeError as exc:
                chunk.problems.append(
                    (line, raw_text, f"not valid JSON: {exc.msg} at column {exc.pos + 1}")
                )
            else:
                if isinstance(obj, dict):
                    mapped: dict[str, Any] = {}
                    for key, value in obj.items():
                        target = lowered.get(key.strip().lower(), key.strip().lower())
                        if target in CANONICAL_FIELDS:
                            mapped[target] = value
                    chunk.rows.append(mapped)
                    chunk.lines.append(line)
                    chunk.texts.append(raw_text)
                else:
                    chunk.problems.append((line, raw_text, "each line must be a JSON object"))
            if chunk.size >= size:
                yield chunk
                chunk = FeedChunk(texts=[])
        if chunk.size:
            yield chunk

    return FeedReader(chunks=chunks, decimal_comma=False, columns=[])


def open_feed(text: IO[str], *, format: str, mapping: dict[str, str]) -> FeedReader:
    if format == "jsonl":
        return open_jsonl(text, mapping)
    return open_csv(text, mapping)
