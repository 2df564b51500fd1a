"""Reading KPI feed files: decoding, dialect, columns and per-field validation.

Everything here is pure: rows come in as raw values and leave as canonical values or
as row errors (line, field, reason). Nothing touches the database.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import itertools
import json
import math
import operator
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import IO, Any

REQUIRED_FOR_NEW = ("agent", "channel", "started_at")
TEXT_LENGTH = 128
DATETIME_FIELDS = ("started_at", "ended_at")
DURATION_FIELDS = ("handle_seconds", "first_response_seconds", "wait_seconds")
BOOLEAN_FIELDS = ("resolved", "first_contact_resolution", "transferred", "escalated", "abandoned")
INTEGER_RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
# Inclusive bounds of the number fields; durations have no upper bound but must be finite.
NUMBER_RANGES = {
    **{name: (0, sys.float_info.max) for name in DURATION_FIELDS},
    "qa_score": (0, 100),
}

BOOLEAN_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "sim": True,
    "s": True,
    "t": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
    "nao": False,
    "não": False,
    "f": False,
}


class FeedFileError(Exception):
    """The file cannot be read as a whole: nothing in it is applied."""


class FieldError(ValueError):
    pass


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass(slots=True)
class ParsedRow:
    """A row that passed validation: only the canonical fields it carries."""

    line: int
    external_id: str
    values: dict[str, Any]
    agent_key: str | None = None


@dataclass
class RejectedRow:
    line: int
    errors: list[RowError]
    raw: str


@dataclass
class FieldParsers:
    """Converters bound to one source's conventions (time zone, decimal comma)."""

    time_zone: tzinfo
    decimal_comma: bool = False
    converters: dict[str, Callable[[Any], Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.converters = {
            "external_id": _text,
            "agent": _text,
            "channel": lambda v: _text(v).lower(),
            "case_id": _text,
            "started_at": self.datetime,
            "ended_at": self.datetime,
            **{name: self.seconds for name in DURATION_FIELDS},
            **{name: boolean for name in BOOLEAN_FIELDS},
            **{
                name: functools.partial(integer, low=low, high=high)
                for name, (low, high) in INTEGER_RANGES.items()
            },
            "qa_score": lambda v: self.number(v, 0, 100),
        }

    def number(self, value: Any, low: float, high: float | None) -> float:
        if isinstance(value, bool):
            raise FieldError(f"expected a number, got {value!r}")
        if isinstance(value, int | float):
            number = float(value)
        else:
            text = str(value).strip()
            if self.decimal_comma:
                text = text.replace(",", ".")
            try:
                number = float(text)
            except ValueError:
                raise FieldError(f"{value!r} is not a number") from None
        if math.isnan(number) or math.isinf(number):
            raise FieldError(f"{value!r} is not a finite number")
        if number < low:
            raise FieldError(f"{_fmt(number)} is below the minimum {_fmt(low)}")
        if high is not None and number > high:
            raise FieldError(f"{_fmt(number)} is above the maximum {_fmt(high)}")
        return number

    def seconds(self, value: Any) -> float:
        try:
            return self.number(value, 0, None)
        except FieldError as exc:
            if "below the minimum" in str(exc):
                raise FieldError(f"{value!r} is negative; durations must be >= 0") from None
            raise

    def datetime(self, value: Any) -> datetime:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError(
                f"{value!r} is not an ISO 8601 date-time (e.g. 2026-10-29T11:42:06Z "
                "or 2026-10-29 11:42:06)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.time_zone)
        return moment.astimezone(UTC)


def _fmt(number: float) -> str:
    return f"{number:g}"


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(f"expected text, got {value!r}")
    text = str(value).strip()
    if len(text) > TEXT_LENGTH:
        raise FieldError(f"longer than {TEXT_LENGTH} characters")
    return text


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[word]
    raise FieldError(f"{value!r} is not a yes/no value (true/false, 1/0, yes/no, sim/nao)")


def _optional_text(value: Any) -> str:
    return "" if value is None else _text(value)


def integer(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise FieldError(f"expected a whole number, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise FieldError(f"{value!r} is not a whole number")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            raise FieldError(f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise FieldError(f"{number} is outside {low}-{high}")
    return number


CANONICAL_FIELDS = (
    "external_id",
    "agent",
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


def validate_row(
    raw: dict[str, Any], *, line: int, parsers: FieldParsers
) -> ParsedRow | list[RowError]:
    """Convert the carried canonical fields of one row. Empty values are not carried."""
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            values[name] = parsers.converters[name](value)
        except FieldError as exc:
            errors.append(RowError(line, name, str(exc)))
    return _parsed_row(values, errors, line)


class CellValidator:
    """`validate_row` for CSV rows: a list of cells in column order.

    Cells in their common forms (a stripped boolean word, a plain number, an ISO date-time)
    are converted inline, kind by kind, without a call per cell; a row with anything else
    in it, or an error, goes through `validate_row`, which gives the same values for the
    common forms and the exact errors for the rest.
    """

    def __init__(self, fields: list[str | None], parsers: FieldParsers):
        self.parsers = parsers
        self.time_zone = parsers.time_zone
        self.decimal_comma = parsers.decimal_comma
        self.columns = [(index, name) for index, name in enumerate(fields) if name]
        self.key_index = fields.index("external_id")
        self.agent_index = fields.index("agent") if "agent" in fields else None
        self.channel_index = fields.index("channel") if "channel" in fields else None
        self.texts = [(i, name) for i, name in self.columns if name == "case_id"]
        self.booleans = [(i, name) for i, name in self.columns if name in BOOLEAN_FIELDS]
        self.numbers = [
            (i, name, *NUMBER_RANGES[name]) for i, name in self.columns if name in NUMBER_RANGES
        ]
        self.integers = [
            (i, name, *INTEGER_RANGES[name]) for i, name in self.columns if name in INTEGER_RANGES
        ]
        self.datetimes = [(i, name) for i, name in self.columns if name in DATETIME_FIELDS]

    def __call__(self, cells: list[str], line: int) -> ParsedRow | list[RowError]:
        try:
            return self._common_forms(cells, line)
        except (ValueError, KeyError):
            return validate_row(
                {name: cells[index] for index, name in self.columns},
                line=line,
                parsers=self.parsers,
            )

    def _common_forms(self, cells: list[str], line: int) -> ParsedRow:
        """The row when every cell it carries is in a common form; ValueError or KeyError
        when one is not (or is invalid)."""
        values: dict[str, Any] = {}
        key = cells[self.key_index].strip()
        if not key or len(key) > TEXT_LENGTH:
            raise ValueError
        agent = None
        if self.agent_index is not None:
            agent = cells[self.agent_index].strip() or None
            if agent is not None and len(agent) > TEXT_LENGTH:
                raise ValueError
        if self.channel_index is not None:
            channel = cells[self.channel_index].strip()
            if channel:
                if len(channel) > TEXT_LENGTH:
                    raise ValueError
                values["channel"] = channel.lower()
        for index, name in self.texts:
            text = cells[index].strip()
            if text:
                if len(text) > TEXT_LENGTH:
                    raise ValueError
                values[name] = text
        for index, name in self.booleans:
            word = cells[index]
            if word:
                values[name] = BOOLEAN_WORDS[word]
        decimal_comma = self.decimal_comma
        for index, name, low, high in self.numbers:
            cell = cells[index]
            if cell:
                number = float(cell.replace(",", ".") if decimal_comma else cell)
                # NaN fails both comparisons, infinity the upper one.
                if not low <= number <= high:
                    raise ValueError
                values[name] = number
        for index, name, low, high in self.integers:
            cell = cells[index]
            if cell:
                number = int(cell)
                if not low <= number <= high:
                    raise ValueError
                values[name] = number
        for index, name in self.datetimes:
            cell = cells[index]
            if cell:
                moment = datetime.fromisoformat(cell)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=self.time_zone)
                values[name] = moment.astimezone(UTC)
        ended = values.get("ended_at")
        if ended is not None and ended < values.get("started_at", ended):
            raise ValueError
        return ParsedRow(line, key, values, agent)


def _parsed_row(
    values: dict[str, Any], errors: list[RowError], line: int
) -> ParsedRow | list[RowError]:
    external_id = values.pop("external_id", None)
    if not external_id:
        errors.insert(0, RowError(line, "external_id", "is required"))
    started, ended = values.get("started_at"), values.get("ended_at")
    if started and ended and ended < started:
        errors.append(RowError(line, "ended_at", "is before started_at"))
    if errors:
        return errors
    agent_key = values.pop("agent", None)
    return ParsedRow(line=line, external_id=external_id, values=values, agent_key=agent_key)


def derive_handle_seconds(values: dict[str, Any]) -> None:
    """Fill handle_seconds from ended_at - started_at when the feed does not carry it."""
    if values.get("handle_seconds") is None:
        started, ended = values.get("started_at"), values.get("ended_at")
        if started is not None and ended is not None:
            values["handle_seconds"] = (ended - started) / timedelta(seconds=1)


# --- whole files -------------------------------------------------------------------------


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
            key = _optional_text(raw.get("external_id"))
            agent = _optional_text(raw.get("agent"))
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
