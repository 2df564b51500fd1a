"""Feed rows: per-field conversion and validation of canonical values.

Everything here is pure: raw cell values come in and leave as canonical values or as row
errors (line, field, reason). Nothing touches the database.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

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


def optional_text(value: Any) -> str:
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
