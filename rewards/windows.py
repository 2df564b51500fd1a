"""Leaderboard windows: a week, month, quarter or all time of `earned_on` dates (local dates
in each agent's own team zone, as the ledger keeps them). Pure: no ORM."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from performance.periods import (
    EARLIEST_DAY,
    LATEST_DAY,
    PERIOD_KEY_SHAPES,
    Period,
    PeriodKeyError,
    PeriodKind,
    check_within_range,
    parse_period_key,
    period_containing,
)


class Span(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    ALL = "all"


SPAN_CHOICES = [
    (Span.WEEK.value, _("Week")),
    (Span.MONTH.value, _("Month")),
    (Span.QUARTER.value, _("Quarter")),
    (Span.ALL.value, _("All time")),
]

# Where the all-time window starts: the first day any points can belong to.
ALL_TIME_START = EARLIEST_DAY


@dataclass(frozen=True, order=True)
class Window:
    start: date
    end: date  # exclusive
    span: Span

    def previous(self) -> Window | None:
        if self.span == Span.ALL or self.start <= EARLIEST_DAY:
            return None
        return window_containing(self.start - timedelta(days=1), self.span)

    def next(self) -> Window | None:
        if self.span == Span.ALL or self.end > LATEST_DAY:
            return None
        return window_containing(self.end, self.span)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def label(self) -> str:
        match self.span:
            case Span.WEEK:
                return Period(self.start, self.end, PeriodKind.WEEK).label
            case Span.MONTH:
                return Period(self.start, self.end, PeriodKind.MONTH).label
            case Span.QUARTER:
                return gettext("Q%(quarter)s %(year)s") % {
                    "quarter": (self.start.month - 1) // 3 + 1,
                    "year": self.start.year,
                }
            case _:
                return gettext("All time")

    @property
    def key(self) -> str:
        """For URLs: 2026-W44, 2026-10, 2026-Q4, or empty for all time."""
        match self.span:
            case Span.WEEK:
                return Period(self.start, self.end, PeriodKind.WEEK).key
            case Span.MONTH:
                return Period(self.start, self.end, PeriodKind.MONTH).key
            case Span.QUARTER:
                return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
            case _:
                return ""


def window_containing(day: date, span: Span | str) -> Window:
    span = Span(span)
    match span:
        case Span.WEEK | Span.MONTH:
            period = period_containing(day, PeriodKind(span.value))
            return Window(period.start, period.end, span)
        case Span.QUARTER:
            first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
            following = (
                date(first.year + 1, 1, 1)
                if first.month == 10
                else date(first.year, first.month + 3, 1)
            )
            return Window(first, following, span)
        case _:
            return Window(ALL_TIME_START, LATEST_DAY + timedelta(days=1), span)


@cache
def window_starts(day: date) -> Mapping[Span, date]:
    """The start of every window containing `day`: the keys its points are totalled under
    (cached: a reconciliation asks for the same few hundred days a million times)."""
    return MappingProxyType({span: window_containing(day, span).start for span in Span})


def parse_window(span: Span | str, key: str, *, today: date) -> Window:
    """The window of `span` a key names (any period key, or 2026-Q4); the current one for an
    empty key. Raises PeriodKeyError for a key that names no day Atendo shows."""
    span = Span(span)
    if span == Span.ALL or not key:
        return window_containing(today, span)
    year, sep, quarter = key.partition("-Q")
    if sep:
        if not (len(year) == 4 and year.isdigit() and quarter in {"1", "2", "3", "4"}):
            raise PeriodKeyError(gettext("'%(key)s' is not a quarter (2026-Q4).") % {"key": key})
        first = date(int(year), (int(quarter) - 1) * 3 + 1, 1)
        check_within_range(first, shown=key)
        return window_containing(first, span)
    return window_containing(parse_period_key(key).start, span)


_MONTH_SHAPE = next(shape for shape, kind in PERIOD_KEY_SHAPES if kind is PeriodKind.MONTH)


def parse_month(key: str, *, today: date) -> Window:
    """The month a key such as 2026-11 names (parse_window's month, and only a month); for
    an empty key the month before today's, the one a payroll run pays. Raises PeriodKeyError
    for a day, a week or anything else."""
    if not key:
        current = window_containing(today, Span.MONTH)
        return current.previous() or current
    if not _MONTH_SHAPE.fullmatch(key) or not 1 <= int(key.partition("-")[2]) <= 12:
        raise PeriodKeyError(gettext("'%(key)s' is not a month (2026-11).") % {"key": key})
    return parse_window(Span.MONTH, key, today=today)
