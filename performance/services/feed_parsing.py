"""Reading KPI feed files: decoding, dialect, columns and per-field validation.

Everything here is pure: rows come in as raw values and leave as canonical values or
as row errors (line, field, reason). Nothing touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import IO, Any
from zoneinfo import ZoneInfo

REQUIRED_FOR_NEW = ("agent", "channel", "started_at")

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


@dataclass
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
            "handle_seconds": self.seconds,
            "first_response_seconds": self.seconds,
            "wait_seconds": self.seconds,
            "resolved": boolean,
            "first_contact_resolution": boolean,
            "transferred": boolean,
            "escalated": boolean,
            "abandoned": boolean,
            "csat": lambda v: integer(v, 1, 5),
            "nps": lambda v: integer(v, 0, 10),
            "ces": lambda v: integer(v, 1, 7),
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
        return moment.astimezone(UTC_ZONE)


UTC_ZONE = ZoneInfo("UTC")


def _fmt(number: float) -> str:
    return f"{number:g}"


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(f"expected text, got {value!r}")
    text = str(value).strip()
    if len(text) > 128:
        raise FieldError("longer than 128 characters")
    return text


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[word]
    raise FieldError(f"{value!r} is not a yes/no value (true/false, 1/0, yes/no, sim/nao)")


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

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.raw.read(len(buffer))
        size = len(chunk)
        buffer[:size] = chunk
        self.bytes_read += size
        return size


def check_utf8(stream: IO[bytes], chunk_size: int = 1 << 20) -> None:
    """Raise FeedFileError at the first undecodable byte, naming its offset."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    while chunk := stream.read(chunk_size):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise FeedFileError(
                f"the file is not UTF-8 text (undecodable byte at offset {offset + exc.start}); "
                "export it as UTF-8"
            ) from None
        offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FeedFileError("the file is not UTF-8 text (it ends inside a character)") from None


@dataclass
class FeedReader:
    """Iterates a stored feed as (line, raw dict of canonical fields, raw text) tuples."""

    rows: Iterator[tuple[int, dict[str, Any] | None, str, str | None]]
    decimal_comma: bool
    columns: list[str]


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

    def rows() -> Iterator[tuple[int, dict[str, Any] | None, str, str | None]]:
        line = 1
        while True:
            start = line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num + 1
                yield start, None, "", f"unreadable CSV: {exc}"
                continue
            line = reader.line_num + 1
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            raw_text = delimiter.join(values)
            if len(values) != width:
                yield start, None, raw_text, (f"has {len(values)} columns, the header has {width}")
                continue
            yield start, {c: v for c, v in zip(canonical, values, strict=True) if c}, raw_text, None

    return FeedReader(rows=rows(), decimal_comma=delimiter == ";", columns=names)


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

    def rows() -> Iterator[tuple[int, dict[str, Any] | None, str, str | None]]:
        for line, raw_line in enumerate(itertools.chain([first_line], text), start=1):
            if not raw_line.strip():
                continue
            raw_text = raw_line.rstrip("\r\n")
            try:
                obj = json.loads(raw_line)
            except json.JSONDecodeError as exc:
                yield line, None, raw_text, f"not valid JSON: {exc.msg} at column {exc.colno}"
                continue
            if not isinstance(obj, dict):
                yield line, None, raw_text, "each line must be a JSON object"
                continue
            mapped: dict[str, Any] = {}
            for key, value in obj.items():
                target = lowered.get(key.strip().lower(), key.strip().lower())
                if target in CANONICAL_FIELDS:
                    mapped[target] = value
            yield line, mapped, raw_text, None

    return FeedReader(rows=rows(), decimal_comma=False, columns=[])


def open_feed(text: IO[str], *, format: str, mapping: dict[str, str]) -> FeedReader:
    if format == "jsonl":
        return open_jsonl(text, mapping)
    return open_csv(text, mapping)
