"""Feed files: decoding, dialect, columns, chunks and row digests.

Pure: a stored file comes in (CSV or JSON Lines text in its encoding, or an .xlsx workbook),
chunks of raw rows (with their line numbers and digests) come out. Nothing touches the
database.
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
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import IO, Any

from django.utils.translation import gettext_noop

from performance.feeds.messages import Message
from performance.feeds.rows import (
    CellValidator,
    FeedFileError,
    FieldError,
    FieldParsers,
    ParsedRow,
    RowError,
    optional_text,
    validate_row,
)
from performance.feeds.schema import CANONICAL_FIELDS, REQUIRED_FOR_NEW

CSV, JSONL, XLSX = "csv", "jsonl", "xlsx"
FORMAT_FOR_SUFFIX = {".csv": CSV, ".jsonl": JSONL, ".ndjson": JSONL, ".xlsx": XLSX}
AUTOMATIC = "auto"
UTF8, WINDOWS_1252 = "utf-8", "windows-1252"
# Encodings a source may fix, with the name people know them by.
ENCODING_NAMES = {UTF8: "UTF-8", WINDOWS_1252: "Windows-1252", "iso-8859-1": "ISO-8859-1"}
# The codec each encoding is read with: UTF-8 with or without a byte-order mark.
CODECS = {UTF8: "utf-8-sig"}


READ_BUFFER_BYTES = 1 << 20
# Far more than any export has; a file with more is refused before reading a row.
MAX_COLUMNS = 200
# In a chunk's JSON text: a NUL character or a JSON escape that could decode to one or to half
# a surrogate pair (text that cannot be stored). Decoded values are checked where it matches.
UNSTORABLE_JSON = re.compile(r"\x00|\\u0000|\\u[dD][89a-fA-F]")


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


def format_of_name(name: str) -> str | None:
    """The format a file name's suffix implies, if any."""
    return FORMAT_FOR_SUFFIX.get(PurePath(name).suffix.lower())


def check_encoding(stream: IO[bytes], encoding: str, chunk_size: int = 1 << 20) -> None:
    """Raise FeedFileError at the first byte `encoding` cannot decode, naming its line and
    byte offset. Reads in chunks: memory does not grow with the file."""
    decoder = codecs.getincrementaldecoder(encoding)()
    name = ENCODING_NAMES.get(encoding, encoding)
    offset = lines = 0
    while chunk := stream.read(chunk_size):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            line = lines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
            raise FeedFileError(
                gettext_noop(
                    "the file is not %(encoding)s text (undecodable byte on line %(line)s, "
                    "byte offset %(offset)s); export it as %(encoding)s"
                ),
                encoding=name,
                line=line,
                offset=offset + max(exc.start, 0),
            ) from None
        offset += len(chunk)
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FeedFileError(
            gettext_noop(
                "the file is not %(encoding)s text (it ends inside a character); "
                "export it as %(encoding)s"
            ),
            encoding=name,
        ) from None


def detect_encoding(stream: IO[bytes], setting: str) -> str:
    """The encoding a seekable text file is read in: the source's fixed one when it decodes
    the whole file, or automatically strict UTF-8 (with or without a byte-order mark), else
    Windows-1252, which is what Excel in Brazil saves CSV as."""
    if setting != AUTOMATIC:
        check_encoding(stream, setting)
        return setting
    try:
        check_encoding(stream, UTF8)
    except FeedFileError:
        stream.seek(0)
        try:
            check_encoding(stream, WINDOWS_1252)
        except FeedFileError as exc:
            params = exc.message.params
            raise FeedFileError(
                gettext_noop(
                    "the file is neither UTF-8 nor Windows-1252 text (undecodable byte on "
                    "line %(line)s, byte offset %(offset)s); export it as UTF-8"
                ),
                line=params.get("line", "?"),
                offset=params.get("offset", "?"),
            ) from None
        return WINDOWS_1252
    return UTF8


def check_workbook(stream: IO[bytes]) -> None:
    """A quick look at an .xlsx file on receipt: a zip holding a workbook (its sheets are
    read when it is processed)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise _not_a_workbook() from None
    if "xl/workbook.xml" not in names:
        raise _not_a_workbook()


def _not_a_workbook() -> FeedFileError:
    return FeedFileError(
        gettext_noop(
            "the file is not an Excel workbook (.xlsx) that can be read; save it from Excel "
            "as .xlsx, or send CSV"
        )
    )


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
    # (line, field ("" for the whole row), raw text, why) of each row that cannot be read.
    problems: list[tuple[int, str, str, Message]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.problems)

    def after(self, count: int) -> FeedChunk:
        """The chunk without its first `count` rows, readable or not, in file order."""
        if count <= 0:
            return self
        last_dropped = sorted([*self.lines, *(problem[0] for problem in self.problems)])[count - 1]
        kept = [index for index, line in enumerate(self.lines) if line > last_dropped]
        return FeedChunk(
            rows=[self.rows[index] for index in kept],
            lines=[self.lines[index] for index in kept],
            texts=None if self.texts is None else [self.texts[index] for index in kept],
            problems=[problem for problem in self.problems if problem[0] > last_dropped],
        )


@dataclass
class FeedReader:
    """Reads a stored feed in chunks of rows."""

    chunks: Callable[[int], Iterator[FeedChunk]]
    decimal_comma: bool
    columns: list[str]
    fields: list[str | None] | None = None
    delimiter: str = ","
    # A sheet's rows are dicts of typed cells: they are digested by their values.
    sheet: bool = False
    # Bytes of the stored file read so far (for progress).
    bytes_read: Callable[[], int] = lambda: 0

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
            return csv_line(chunk.rows[index], self.delimiter)
        return chunk.texts[index]

    def identities(self, chunk: FeedChunk, digest_key: bytes) -> RowIdentities:
        if self.sheet:
            return _sheet_identities(chunk, digest_key)
        if self.fields is None:
            return _json_identities(chunk, digest_key)
        return _cell_identities(chunk, self.fields, digest_key)


# --- recognising a row sent again ----------------------------------------------------------

# Part of every row digest: change it whenever the same text would now be read differently
# (a parsing or validation rule), so rows stored before are validated again.
ROW_DIGEST_VERSION = "2"
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


def _record_identities(
    chunk: FeedChunk, digest_key: bytes, row_bytes: Callable[[Any, int], bytes]
) -> RowIdentities:
    """Key, agent and digest per record (a JSON object or a sheet row) of a chunk; the
    digest is taken over `row_bytes(raw, index)`."""
    keys, agents, digests = [], [], []
    for index, raw in enumerate(chunk.rows):
        try:
            key = optional_text(raw.get("external_id"))
            agent = optional_text(raw.get("agent"))
        except FieldError:
            key, agent, digest = "", "", None
        else:
            digest = hashlib.blake2b(
                row_bytes(raw, index), digest_size=ROW_DIGEST_SIZE, key=digest_key
            ).digest()
        keys.append(key)
        agents.append(agent)
        digests.append(digest)
    return keys, agents, digests


def _json_identities(chunk: FeedChunk, digest_key: bytes) -> RowIdentities:
    texts = chunk.texts or ()
    return _record_identities(chunk, digest_key, lambda raw, index: texts[index].encode())


def _sheet_identities(chunk: FeedChunk, digest_key: bytes) -> RowIdentities:
    # The repr of typed cells in column order: a text "5" and a number 5 differ.
    return _record_identities(chunk, digest_key, lambda raw, index: repr(raw).encode())


def map_columns(names: list[str], mapping: dict[str, str]) -> list[str | None]:
    """Canonical field per source column (None for columns Atendo does not use)."""
    if len(names) > MAX_COLUMNS:
        raise _too_many_columns(len(names))
    lowered = {key.strip().lower(): value for key, value in mapping.items()}
    canonical = []
    for name in names:
        key = name.strip().lower()
        target = lowered.get(key, key)
        canonical.append(target if target in CANONICAL_FIELDS else None)
    return canonical


def csv_line(cells: list[str], delimiter: str) -> str:
    """A CSV row as its line reads: cells holding the delimiter, a quote or a line break
    quoted as they must have been."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


def _csv_header(text: IO[str]) -> tuple[str, list[str]]:
    """The delimiter and column names of a CSV file's header line."""
    header_line = text.readline()
    if not header_line:
        raise FeedFileError(gettext_noop("the file is empty"))
    if not header_line.strip():
        raise FeedFileError(gettext_noop("the first line is blank; it must be the header row"))
    delimiter = max((";", ",", "\t"), key=header_line.count)
    try:
        header = next(csv.reader([header_line], delimiter=delimiter))
    except csv.Error as exc:
        raise FeedFileError(
            gettext_noop("the header row cannot be read as CSV: %(problem)s"), problem=exc
        ) from None
    return delimiter, [name.strip() for name in header]


def open_csv(text: IO[str], mapping: dict[str, str]) -> FeedReader:
    delimiter, names = _csv_header(text)
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
                                    "",
                                    csv_line(cells, delimiter),
                                    _column_count(len(cells), width),
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
                    problems.append(
                        (
                            start,
                            "",
                            "",
                            Message(
                                gettext_noop("unreadable CSV: %(problem)s"), {"problem": str(exc)}
                            ),
                        )
                    )
            # Once per chunk: a NUL character is rare, and cannot be stored.
            if "\x00" in "".join(map("".join, rows)):
                _set_aside_nul_rows(chunk, canonical, delimiter)
            if chunk.size:
                yield chunk

    return FeedReader(
        chunks=chunks,
        decimal_comma=delimiter == ";",
        columns=names,
        fields=canonical,
        delimiter=delimiter,
    )


def _set_aside_nul_rows(chunk: FeedChunk, fields: list[str | None], delimiter: str) -> None:
    """Move the CSV rows of a chunk that hold a NUL character to its problems."""
    kept = [
        (cells, line)
        for cells, line in zip(chunk.rows, chunk.lines, strict=True)
        if not _nul_problem(chunk, cells, line, fields, delimiter)
    ]
    chunk.rows[:] = [cells for cells, _ in kept]
    chunk.lines[:] = [line for _, line in kept]


def _nul_problem(
    chunk: FeedChunk, cells: list[str], line: int, fields: list[str | None], delimiter: str
) -> bool:
    for index, cell in enumerate(cells):
        if "\x00" in cell:
            name = fields[index] or ""
            chunk.problems.append((line, name, csv_line(cells, delimiter), _nul_message()))
            return True
    return False


def _nul_message() -> Message:
    return Message(gettext_noop("contains a NUL character (byte 0), which cannot be stored"))


def _column_count(cells: int, width: int) -> Message:
    return Message(
        gettext_noop("has %(cells)s columns, the header has %(width)s"),
        {"cells": str(cells), "width": str(width)},
    )


def _check_columns(names: list[str], canonical: list[str | None]) -> None:
    present = [c for c in canonical if c]
    duplicates = sorted(name for name, count in Counter(present).items() if count > 1)
    if duplicates:
        raise FeedFileError(
            gettext_noop("column for %(fields)s appears more than once"),
            fields=", ".join(duplicates),
        )
    if "external_id" not in present:
        raise FeedFileError(
            gettext_noop("required column external_id is missing (columns found: %(columns)s)"),
            columns=", ".join(names),
        )
    carried = [f for f in REQUIRED_FOR_NEW if f in present]
    if carried and len(carried) != len(REQUIRED_FOR_NEW):
        missing = ", ".join(f for f in REQUIRED_FOR_NEW if f not in present)
        raise FeedFileError(
            gettext_noop(
                "required column %(missing)s is missing (a file that carries %(carried)s must "
                "also carry %(missing)s)"
            ),
            missing=missing,
            carried=", ".join(carried),
        )
    if len(present) == 1:
        raise FeedFileError(gettext_noop("the file carries no field besides external_id"))


def _too_many_columns(count: int) -> FeedFileError:
    return FeedFileError(
        gettext_noop("the file has %(count)s columns; at most %(limit)s are read"),
        count=count,
        limit=MAX_COLUMNS,
    )


class _Pairs(list):
    """A JSON object as read: its (key, value) pairs in order, duplicates kept."""


def _jsonl_first(text: IO[str]) -> tuple[str, dict[str, Any]]:
    first_line = text.readline()
    if not first_line.strip():
        raise FeedFileError(
            gettext_noop("the file is empty")
            if not first_line
            else gettext_noop("the first line is blank")
        )
    try:
        first = json.loads(first_line)
    except (ValueError, RecursionError):  # ValueError: also a number of over 4300 digits
        first = None
    if not isinstance(first, dict):
        raise FeedFileError(
            gettext_noop(
                "the first line is not a JSON object: is this a CSV file? (JSON Lines needs "
                "one object per line)"
            )
        )
    return first_line, first


def open_jsonl(text: IO[str], mapping: dict[str, str]) -> FeedReader:
    lowered = {key.strip().lower(): value for key, value in mapping.items()}
    first_line, _ = _jsonl_first(text)

    def chunks(size: int) -> Iterator[FeedChunk]:
        chunk = FeedChunk(texts=[])
        for line, raw_line in enumerate(itertools.chain([first_line], text), start=1):
            if not raw_line.strip():
                continue
            raw_text = raw_line.rstrip("\r\n")
            try:
                obj = json.loads(raw_text, object_pairs_hook=_Pairs)
            except json.JSONDecodeError as exc:
                chunk.problems.append(
                    (
                        line,
                        "",
                        raw_text,
                        Message(
                            gettext_noop("not valid JSON: %(problem)s at column %(column)s"),
                            {"problem": exc.msg, "column": str(exc.pos + 1)},
                        ),
                    )
                )
            except ValueError:  # an integer of over 4300 digits
                chunk.problems.append(
                    (line, "", raw_text, Message(gettext_noop("holds a number too long to read")))
                )
            except RecursionError:
                chunk.problems.append(
                    (line, "", raw_text, Message(gettext_noop("is nested too deeply to read")))
                )
            else:
                if type(obj) is _Pairs and len(obj) <= MAX_COLUMNS:
                    mapped: dict[str, Any] = {}
                    repeated = None
                    for key, value in obj:
                        folded = key.strip().lower()
                        target = lowered.get(folded, folded)
                        if target in CANONICAL_FIELDS:
                            if target in mapped:
                                repeated = target
                                break
                            mapped[target] = value
                    if repeated is None:
                        chunk.rows.append(mapped)
                        chunk.lines.append(line)
                        chunk.texts.append(raw_text)
                    else:
                        chunk.problems.append((line, repeated, raw_text, _repeated(repeated)))
                elif type(obj) is _Pairs:
                    chunk.problems.append(
                        (
                            line,
                            "",
                            raw_text,
                            Message(
                                gettext_noop("has %(count)s keys; at most %(limit)s are read"),
                                {"count": str(len(obj)), "limit": str(MAX_COLUMNS)},
                            ),
                        )
                    )
                else:
                    chunk.problems.append(
                        (
                            line,
                            "",
                            raw_text,
                            Message(gettext_noop("each line must be a JSON object")),
                        )
                    )
            if chunk.size >= size:
                _set_aside_unstorable_records(chunk)
                yield chunk
                chunk = FeedChunk(texts=[])
        if chunk.size:
            _set_aside_unstorable_records(chunk)
            yield chunk

    return FeedReader(chunks=chunks, decimal_comma=False, columns=[])


def _repeated(name: str) -> Message:
    return Message(
        gettext_noop(
            "%(field)s is given more than once (keys that differ only in letter case name the "
            "same field)"
        ),
        {"field": name},
    )


def _set_aside_unstorable_records(chunk: FeedChunk) -> None:
    """Move the JSON records of a chunk with a value that cannot be stored (a NUL character,
    half a surrogate pair) to its problems. One search over the chunk's text finds none in
    almost every chunk."""
    texts = chunk.texts or []
    if not UNSTORABLE_JSON.search("\n".join(texts)):
        return
    rows, lines, kept_texts = [], [], []
    for record, line, text in zip(chunk.rows, chunk.lines, texts, strict=True):
        name = next((name for name, value in record.items() if _unstorable(value)), None)
        if name is None:
            rows.append(record)
            lines.append(line)
            kept_texts.append(text)
        elif "\x00" in str(record[name]):
            chunk.problems.append((line, name, text, _nul_message()))
        else:
            chunk.problems.append(
                (
                    line,
                    name,
                    text,
                    Message(gettext_noop("holds half of a UTF-16 surrogate pair, not a character")),
                )
            )
    chunk.rows[:], chunk.lines[:], texts[:] = rows, lines, kept_texts


def _unstorable(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if "\x00" in value:
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return True
    return False


def open_xlsx(raw: IO[bytes], mapping: dict[str, str]) -> FeedReader:
    """The first sheet of a workbook: its first row is the header, each later row a record of
    typed cells (dates and date-times naive, read in the source's zone). Read in openpyxl's
    read-only mode, row by row, so a big sheet never sits in memory whole."""
    workbook, rows, names = _sheet_header(raw)
    canonical = map_columns(names, mapping)
    _check_columns(names, canonical)
    width = len(names)
    columns = [(index, name) for index, name in enumerate(canonical) if name]

    def chunks(size: int) -> Iterator[FeedChunk]:
        chunk = FeedChunk(texts=[])
        line = 1
        while True:
            try:
                cells = next(rows, None)
            except Exception:
                workbook.close()
                raise FeedFileError(
                    gettext_noop(
                        "the sheet cannot be read past row %(row)s: the workbook is damaged; "
                        "save it again from Excel"
                    ),
                    row=line,
                ) from None
            if cells is None:
                break
            line += 1
            filled = len(cells)
            while filled and _blank(cells[filled - 1]):
                filled -= 1
            if not filled:
                continue  # a blank row
            text = ";".join(map(_cell_text, cells[:filled]))
            if filled > width:
                chunk.problems.append((line, "", text, _column_count(filled, width)))
            else:
                chunk.rows.append({name: cells[index] for index, name in columns if index < filled})
                chunk.lines.append(line)
                chunk.texts.append(text)
            if chunk.size >= size:
                yield chunk
                chunk = FeedChunk(texts=[])
        workbook.close()
        if chunk.size:
            yield chunk

    return FeedReader(
        chunks=chunks, decimal_comma=False, columns=names, sheet=True, bytes_read=raw.tell
    )


def _sheet_header(raw: IO[bytes]) -> tuple[Any, Iterator[tuple[Any, ...]], list[str]]:
    """The open workbook, an iterator over its first sheet's rows after the header, and the
    header's column names."""
    import openpyxl  # only needed for spreadsheets

    try:
        workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file: all mean the same
        raise _not_a_workbook() from None
    if not workbook.worksheets:
        raise FeedFileError(gettext_noop("the workbook has no sheet"))
    sheet = workbook.worksheets[0]
    # The stored dimensions are often wrong (tools write "A1"): trusting them would cut rows.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(min_row=1, values_only=True)
    try:
        header = next(rows, None)
    except Exception:
        raise _not_a_workbook() from None
    if header is None:
        raise FeedFileError(gettext_noop("the file is empty"))
    names = [_cell_text(cell).strip() for cell in header]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise FeedFileError(gettext_noop("the first row is blank; it must be the header row"))
    return workbook, rows, names


def feed_headings(raw: IO[bytes], *, format: str, encoding: str) -> list[str]:
    """The column names (JSON Lines: the first object's keys) a feed file carries."""
    if format == XLSX:
        workbook, _, names = _sheet_header(raw)
        workbook.close()
        return names
    text = io.TextIOWrapper(raw, encoding=CODECS.get(encoding, encoding), newline="")
    if format == JSONL:
        return [key.strip() for key in _jsonl_first(text)[1]]
    return _csv_header(text)[1]


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _cell_text(cell: Any) -> str:
    """A cell as a person reads it in the report's "row as received"."""
    if cell is None:
        return ""
    if isinstance(cell, datetime | date | time):
        return cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell.isoformat()
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    return str(cell)


def open_feed(raw: IO[bytes], *, format: str, encoding: str, mapping: dict[str, str]) -> FeedReader:
    """A reader of a stored feed file (opened in binary, seekable)."""
    if format == XLSX:
        return open_xlsx(raw, mapping)
    counter = CountingReader(raw)
    # Big reads: each one goes through CountingReader, in Python.
    buffered = io.BufferedReader(counter, buffer_size=READ_BUFFER_BYTES)
    text = io.TextIOWrapper(buffered, encoding=CODECS.get(encoding, encoding), newline="")
    reader = open_jsonl(text, mapping) if format == JSONL else open_csv(text, mapping)
    reader.bytes_read = lambda: counter.bytes_read
    return reader
