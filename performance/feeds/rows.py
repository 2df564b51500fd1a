"""Feed rows: per-field conversion and validation of canonical values.

Everything here is pure: raw cell values come in and leave as canonical values or as row
errors (line, field, reason). Nothing touches the database. The fields, their kinds and
ranges come from the schema.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.utils.translation import gettext_noop

from performance.feeds.messages import Message
from performance.feeds.schema import (
    BOOLEAN_FIELDS,
    DATETIME_FIELDS,
    EARLIEST_MOMENT,
    FIELD_BY_NAME,
    FIELDS,
    FUTURE_TOLERANCE,
    SECONDS_PER_UNIT,
    TEXT_LENGTH,
    Kind,
    Unit,
)

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
# Inclusive bounds of the number fields (durations included: >= 0 and finite).
NUMBER_RANGES = {f.name: (f.low, f.high) for f in FIELDS if f.kind in (Kind.NUMBER, Kind.DURATION)}
INTEGER_RANGES = {f.name: (int(f.low), int(f.high)) for f in FIELDS if f.kind == Kind.INTEGER}
DAY_FIRST = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?"
)
CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d{1,2}(?:[.,]\d+)?)")
# How much of a bad value a message quotes (a value can be thousands of characters long).
SHOWN_LENGTH = 60


class FeedFileError(Exception):
    """The file cannot be read as a whole: nothing in it is applied."""

    def __init__(self, msgid: str, **params: Any):
        self.message = Message(msgid, {k: str(v) for k, v in params.items()})
        super().__init__(str(self.message))


class FieldError(ValueError):
    def __init__(self, msgid: str, **params: Any):
        self.message = Message(msgid, {k: str(v) for k, v in params.items()})
        super().__init__(str(self.message))


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: Message

    @property
    def reason(self) -> str:
        return str(self.message)


def row_error(line: int, field: str, msgid: str, **params: Any) -> RowError:
    return RowError(line, field, Message(msgid, {k: str(v) for k, v in params.items()}))


@dataclass(slots=True)
class ParsedRow:
    """A row that passed validation: only the canonical fields it carries."""

    line: int
    external_id: str
    values: dict[str, Any]
    agent_key: str | None = None


@dataclass(frozen=True)
class ColumnOption:
    """How one source writes one field: the unit of a numeric duration, and words that stand
    for values (``{"bom": 5}``), compared case-insensitively."""

    unit: Unit = Unit.SECONDS
    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ColumnOption:
        return cls(
            unit=Unit(data.get("unit") or Unit.SECONDS),
            values={str(k).strip().lower(): v for k, v in (data.get("values") or {}).items()},
        )


@dataclass
class FieldParsers:
    """Converters bound to one source's conventions (time zone, decimal comma, date order,
    units and value maps)."""

    time_zone: tzinfo
    decimal_comma: bool = False
    day_first: bool = False
    options: Mapping[str, ColumnOption] = field(default_factory=dict)
    # The latest date-time a row may carry (fixed for one reading of a file).
    latest: datetime = field(default_factory=lambda: datetime.now(UTC) + FUTURE_TOLERANCE)
    converters: dict[str, Callable[[Any], Any]] = field(init=False)
    # Fields whose cells need more than the common forms `CellValidator` reads inline.
    special: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        converters: dict[str, Callable[[Any], Any]] = {}
        for spec in FIELDS:
            converters[spec.name] = self._converter(spec.name)
        self.converters = converters
        special = set(self.options)
        if self.day_first:
            special.update(DATETIME_FIELDS)
        self.special = frozenset(special)

    def _converter(self, name: str) -> Callable[[Any], Any]:
        spec = FIELD_BY_NAME[name]
        option = self.options.get(name)
        if spec.kind == Kind.TEXT:
            convert: Callable[[Any], Any] = _channel if name == "channel" else _text
        elif spec.kind == Kind.DATETIME:
            convert = self.datetime
        elif spec.kind == Kind.DURATION:
            factor = SECONDS_PER_UNIT[option.unit] if option else 1.0
            convert = functools.partial(self.seconds, factor=factor)
        elif spec.kind == Kind.BOOLEAN:
            convert = boolean
        elif spec.kind == Kind.INTEGER:
            convert = functools.partial(integer, low=int(spec.low), high=int(spec.high))
        else:
            convert = functools.partial(self.number, low=spec.low, high=spec.high)
        if option and option.values:
            return functools.partial(_mapped, words=option.values, convert=convert)
        return convert

    def number(self, value: Any, low: float, high: float | None) -> float:
        if isinstance(value, bool):
            raise FieldError(gettext_noop("expected a number, got %(value)s"), value=shown(value))
        if isinstance(value, int | float):
            try:
                number = float(value)
            except OverflowError:  # an integer of hundreds of digits
                number = math.inf if value > 0 else -math.inf
        else:
            text = str(value).strip()
            if self.decimal_comma:
                text = text.replace(",", ".")
            try:
                number = float(text)
            except ValueError:
                raise FieldError(
                    gettext_noop("%(value)s is not a number"), value=shown(value)
                ) from None
        if math.isnan(number) or math.isinf(number):
            raise FieldError(gettext_noop("%(value)s is not a finite number"), value=shown(value))
        if number < low:
            raise FieldError(
                gettext_noop("%(value)s is below the minimum %(minimum)s"),
                value=_fmt(number),
                minimum=_fmt(low),
            )
        if high is not None and number > high:
            raise FieldError(
                gettext_noop("%(value)s is above the maximum %(maximum)s"),
                value=_fmt(number),
                maximum=_fmt(high),
            )
        return number + 0.0  # -0.0 is stored as 0

    def seconds(self, value: Any, factor: float = 1.0) -> float:
        """A duration: a number (in the column's unit), or a clock reading hh:mm:ss or mm:ss
        (a time or a timedelta in a spreadsheet)."""
        if isinstance(value, timedelta):
            return self._non_negative(value.total_seconds(), value)
        if isinstance(value, time):
            return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        if isinstance(value, str) and ":" in value:
            match = CLOCK.fullmatch(value.strip())
            if match is None:
                raise FieldError(
                    gettext_noop("%(value)s is not a duration (seconds, hh:mm:ss or mm:ss)"),
                    value=shown(value),
                )
            hours, minutes, seconds = match.groups()
            if float(seconds.replace(",", ".")) >= 60 or (hours is not None and int(minutes) >= 60):
                raise FieldError(
                    gettext_noop("%(value)s is not a duration (seconds, hh:mm:ss or mm:ss)"),
                    value=shown(value),
                )
            return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))
        try:
            number = self.number(value, 0, None)
        except FieldError as exc:
            if exc.message.msgid.endswith("below the minimum %(minimum)s"):
                raise FieldError(
                    gettext_noop("%(value)s is negative; durations must be >= 0"),
                    value=shown(value),
                ) from None
            raise
        return number * factor

    def _non_negative(self, seconds: float, value: Any) -> float:
        if seconds < 0:
            raise FieldError(
                gettext_noop("%(value)s is negative; durations must be >= 0"), value=shown(value)
            )
        return seconds

    def datetime(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        else:
            text = str(value).strip()
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                moment = self._day_first(text) if self.day_first else None
                if moment is None:
                    raise self._bad_datetime(value) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.time_zone)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:  # within a day of year 1 or 9999
            raise self._out_of_bounds(value) from None
        if moment < EARLIEST_MOMENT:
            raise self._out_of_bounds(value)
        if moment > self.latest:
            raise FieldError(
                gettext_noop("%(moment)s UTC is in the future"), moment=f"{moment:%Y-%m-%d %H:%M}"
            )
        return moment

    def _out_of_bounds(self, value: Any) -> FieldError:
        return FieldError(
            gettext_noop("%(value)s is before %(earliest)s or too far in the future"),
            value=shown(value),
            earliest=f"{EARLIEST_MOMENT:%Y-%m-%d}",
        )

    def _day_first(self, text: str) -> datetime | None:
        match = DAY_FIRST.fullmatch(text)
        if match is None:
            return None
        day, month, year, hour, minute, second, fraction = match.groups()
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")),
            )
        except ValueError:
            return None

    def _bad_datetime(self, value: Any) -> FieldError:
        if self.day_first:
            return FieldError(
                gettext_noop(
                    "%(value)s is not a date-time (e.g. 29/10/2026 11:42, 29/10/2026 "
                    "or 2026-10-29T11:42:06Z)"
                ),
                value=shown(value),
            )
        return FieldError(
            gettext_noop(
                "%(value)s is not an ISO 8601 date-time (e.g. 2026-10-29T11:42:06Z "
                "or 2026-10-29 11:42:06)"
            ),
            value=shown(value),
        )


def _fmt(number: float) -> str:
    return f"{number:g}"


def shown(value: Any) -> str:
    """A bad value as a message quotes it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(gettext_noop("expected text, got %(value)s"), value=shown(value))
    text = str(value).strip()
    if len(text) > TEXT_LENGTH:
        raise FieldError(gettext_noop("longer than %(length)s characters"), length=TEXT_LENGTH)
    return text


def _channel(value: Any) -> str:
    return _text(value).lower()


def _mapped(value: Any, *, words: Mapping[str, Any], convert: Callable[[Any], Any]) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in words:
            return convert(words[word])
    return convert(value)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[word]
    raise FieldError(
        gettext_noop("%(value)s is not a yes/no value (true/false, 1/0, yes/no, sim/nao)"),
        value=shown(value),
    )


def optional_text(value: Any) -> str:
    return "" if value is None else _text(value)


def integer(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise FieldError(gettext_noop("expected a whole number, got %(value)s"), value=shown(value))
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            raise FieldError(
                gettext_noop("%(value)s is not a whole number"), value=shown(value)
            ) from None
    if not low <= number <= high:
        raise FieldError(
            gettext_noop("%(value)s is outside %(low)s-%(high)s"),
            value=shown(number),
            low=low,
            high=high,
        )
    return number


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
            errors.append(RowError(line, name, exc.message))
    return _parsed_row(values, errors, line)


class CellValidator:
    """`validate_row` for CSV rows: a list of cells in column order.

    Cells in their common forms (a stripped boolean word, a plain number, an ISO date-time)
    are converted inline, kind by kind, without a call per cell; fields the source writes its
    own way (a unit, a value map, day-first dates) go through their converter. A row with
    anything else in it, or an error, goes through `validate_row`, which gives the same values
    for the common forms and the exact errors for the rest.
    """

    def __init__(self, fields: list[str | None], parsers: FieldParsers):
        self.parsers = parsers
        self.time_zone = parsers.time_zone
        self.earliest, self.latest = EARLIEST_MOMENT, parsers.latest
        self.decimal_comma = parsers.decimal_comma
        self.columns = [(index, name) for index, name in enumerate(fields) if name]
        special = parsers.special
        self.key_index = fields.index("external_id")
        self.agent_index = fields.index("agent") if "agent" in fields else None
        self.channel_index = fields.index("channel") if "channel" in fields else None
        common = [(i, name) for i, name in self.columns if name not in special]
        self.custom = [
            (i, name, parsers.converters[name])
            for i, name in self.columns
            if name in special and name not in ("external_id", "agent", "channel")
        ]
        self.texts = [(i, name) for i, name in common if name == "case_id"]
        self.booleans = [(i, name) for i, name in common if name in BOOLEAN_FIELDS]
        self.numbers = [
            (i, name, *NUMBER_RANGES[name]) for i, name in common if name in NUMBER_RANGES
        ]
        self.integers = [
            (i, name, *INTEGER_RANGES[name]) for i, name in common if name in INTEGER_RANGES
        ]
        self.datetimes = [(i, name) for i, name in common if name in DATETIME_FIELDS]
        self.channel_converter = parsers.converters["channel"] if "channel" in special else None

    def __call__(self, cells: list[str], line: int) -> ParsedRow | list[RowError]:
        try:
            return self._common_forms(cells, line)
        except (ValueError, KeyError, OverflowError):
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
                if self.channel_converter is not None:
                    values["channel"] = self.channel_converter(channel)
                elif len(channel) > TEXT_LENGTH:
                    raise ValueError
                else:
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
                values[name] = number + 0.0  # -0.0 is stored as 0
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
                moment = moment.astimezone(UTC)
                if not self.earliest <= moment <= self.latest:
                    raise ValueError
                values[name] = moment
        for index, name, convert in self.custom:
            cell = cells[index]
            if cell.strip():
                values[name] = convert(cell)
        ended = values.get("ended_at")
        if ended is not None and ended < values.get("started_at", ended):
            raise ValueError
        return ParsedRow(line, key, values, agent)


def _parsed_row(
    values: dict[str, Any], errors: list[RowError], line: int
) -> ParsedRow | list[RowError]:
    external_id = values.pop("external_id", None)
    if not external_id:
        errors.insert(0, row_error(line, "external_id", gettext_noop("is required")))
    started, ended = values.get("started_at"), values.get("ended_at")
    if started and ended and ended < started:
        errors.append(row_error(line, "ended_at", gettext_noop("is before started_at")))
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


def column_options_from_json(data: Any) -> dict[str, ColumnOption]:
    """A source's stored column options, checked: FieldError (with a message naming the field
    and the problem) when one cannot be used."""
    if not isinstance(data, dict):
        raise FieldError(gettext_noop('must be an object, e.g. {"csat": {"values": {"Bom": 5}}}'))
    options: dict[str, ColumnOption] = {}
    plain = FieldParsers(time_zone=UTC)
    for name, option in data.items():
        spec = FIELD_BY_NAME.get(name)
        if spec is None:
            raise FieldError(
                gettext_noop("%(name)s is not a canonical field (one of: %(fields)s)"),
                name=repr(name),
                fields=", ".join(FIELD_BY_NAME),
            )
        if not isinstance(option, dict) or not set(option) <= {"unit", "values"}:
            raise FieldError(
                gettext_noop('%(name)s: give an object with "unit" and/or "values"'), name=name
            )
        unit = option.get("unit")
        if unit not in (None, "") and spec.kind != Kind.DURATION:
            raise FieldError(gettext_noop("%(name)s: only durations have a unit"), name=name)
        if unit not in (None, "") and unit not in set(Unit):
            raise FieldError(
                gettext_noop("%(name)s: unit %(unit)s is not one of %(units)s"),
                name=name,
                unit=repr(unit),
                units=", ".join(Unit),
            )
        words = option.get("values") or {}
        if not isinstance(words, dict):
            raise FieldError(
                gettext_noop('%(name)s: "values" must map words to values, e.g. {"Bom": 5}'),
                name=name,
            )
        if words and (spec.kind in (Kind.TEXT, Kind.DATETIME) and name != "channel"):
            raise FieldError(gettext_noop("%(name)s: its values cannot be mapped"), name=name)
        for word, value in words.items():
            try:
                plain.converters[name](value)
            except FieldError as exc:
                raise FieldError(
                    gettext_noop("%(name)s: the value for %(word)s is invalid (%(problem)s)"),
                    name=name,
                    word=repr(word),
                    problem=str(exc.message),
                ) from None
        options[name] = ColumnOption.from_json(option)
    return options
