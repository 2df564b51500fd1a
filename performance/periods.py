"""Evaluation periods: half-open local-date intervals [start, end) in a team's time zone.

A day, an ISO week (Monday to Sunday) or a calendar month. Periods are kept as local dates;
their instants are local midnights converted to UTC, so DST changes are handled (a day on
which the clocks change is 23 or 25 hours long).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


PERIOD_CHOICES = [
    (PeriodKind.DAY.value, _("Day")),
    (PeriodKind.WEEK.value, _("ISO week (Monday to Sunday)")),
    (PeriodKind.MONTH.value, _("Month")),
]


# Month names as they read inside a sentence ("outubro de 2026"): Django's own are capitalised.
MONTH_NAMES = [
    pgettext_lazy("month in a period label", "January"),
    pgettext_lazy("month in a period label", "February"),
    pgettext_lazy("month in a period label", "March"),
    pgettext_lazy("month in a period label", "April"),
    pgettext_lazy("month in a period label", "May"),
    pgettext_lazy("month in a period label", "June"),
    pgettext_lazy("month in a period label", "July"),
    pgettext_lazy("month in a period label", "August"),
    pgettext_lazy("month in a period label", "September"),
    pgettext_lazy("month in a period label", "October"),
    pgettext_lazy("month in a period label", "November"),
    pgettext_lazy("month in a period label", "December"),
]


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # exclusive
    kind: PeriodKind

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's instants in UTC: local midnight of start and of end."""
        return local_midnight(self.start, zone), local_midnight(self.end, zone)

    def previous(self) -> Period:
        return period_containing(self.start - timedelta(days=1), self.kind)

    def next(self) -> Period:
        return period_containing(self.end, self.kind)

    def is_complete(self, today: date) -> bool:
        """Whether the period is over on `today` (a local date in the period's zone): only
        then are its results final."""
        return self.end <= today

    @property
    def label(self) -> str:
        match self.kind:
            case PeriodKind.DAY:
                return date_format(self.start, pgettext("day period label", "D d M Y"))
            case PeriodKind.WEEK:
                year, week, _weekday = self.start.isocalendar()
                last = self.end - timedelta(days=1)
                bounds = pgettext("week period bounds", "d M")
                return gettext("Week %(week)s, %(year)s (%(first)s - %(last)s)") % {
                    "week": week,
                    "year": year,
                    "first": date_format(self.start, bounds),
                    "last": date_format(last, bounds),
                }
            case _:
                return gettext("%(month)s %(year)s") % {
                    "month": MONTH_NAMES[self.start.month - 1],
                    "year": self.start.year,
                }

    @property
    def key(self) -> str:
        """A compact form for URLs: 2026-10-29, 2026-W44 or 2026-10."""
        match self.kind:
            case PeriodKind.DAY:
                return self.start.isoformat()
            case PeriodKind.WEEK:
                year, week, _ = self.start.isocalendar()
                return f"{year}-W{week:02d}"
            case _:
                return f"{self.start:%Y-%m}"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def period_containing(day: date, kind: PeriodKind | str) -> Period:
    kind = PeriodKind(kind)
    match kind:
        case PeriodKind.DAY:
            return Period(day, day + timedelta(days=1), kind)
        case PeriodKind.WEEK:
            monday = day - timedelta(days=day.weekday())
            return Period(monday, monday + timedelta(days=7), kind)
        case _:
            first = day.replace(day=1)
            following = (first + timedelta(days=32)).replace(day=1)
            return Period(first, following, kind)


def last_complete_period(kind: PeriodKind | str, *, today: date) -> Period:
    """The latest period of `kind` over on `today`: yesterday, last week or last month."""
    return period_containing(today, kind).previous()


def periods_between(since: date, until: date, kind: PeriodKind | str) -> Iterator[Period]:
    """Every period of `kind` that contains a day in [since, until] (both inclusive)."""
    period = period_containing(since, kind)
    while period.start <= until:
        yield period
        period = period.next()


# Periods outside these years have no data, and the trend and previous/next links of a
# period near date.min or date.max would overflow.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
# The key shapes every page, endpoint and command accepts (see Period.key).
PERIOD_KEY_SHAPES = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), PeriodKind.DAY),
    (re.compile(r"\d{4}-W\d{1,2}"), PeriodKind.WEEK),
    (re.compile(r"\d{4}-\d{1,2}"), PeriodKind.MONTH),
)
PERIOD_KEY_HELP = gettext_lazy("a day (2026-10-29), an ISO week (2026-W44) or a month (2026-10)")


class PeriodKeyError(ValueError):
    """A period key that names no period Atendo shows; `message` says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_period_key(key: str, kind: PeriodKind | str | None = None) -> Period:
    """The period a key of any shape names (2026-10-29, 2026-W44, 2026-10); with `kind`, the
    period of that kind containing the named period's first day (2026-W44 as a month is the
    month its Monday falls in). Raises PeriodKeyError for a bad key or one outside
    EARLIEST_DAY..LATEST_DAY."""
    named = next(
        (shape_kind for shape, shape_kind in PERIOD_KEY_SHAPES if shape.fullmatch(key)), None
    )
    try:
        match named:
            case PeriodKind.DAY:
                first = date.fromisoformat(key)
            case PeriodKind.WEEK:
                year, _, week = key.partition("-W")
                first = date.fromisocalendar(int(year), int(week), 1)
            case PeriodKind.MONTH:
                year, _, month = key.partition("-")
                first = date(int(year), int(month), 1)
            case _:
                raise ValueError(key)
    except ValueError:
        raise PeriodKeyError(
            gettext("'%(key)s' is not %(shapes)s.") % {"key": key, "shapes": PERIOD_KEY_HELP}
        ) from None
    check_within_range(first, shown=key)
    period = period_containing(first, named)
    return period if kind is None else period_containing(period.start, kind)


def check_within_range(day: date, *, shown: str | None = None) -> None:
    """Raise PeriodKeyError for a day outside EARLIEST_DAY..LATEST_DAY."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise PeriodKeyError(
            gettext("'%(key)s' is outside the years %(first)s to %(last)s.")
            % {"key": shown or day.isoformat(), "first": EARLIEST_DAY.year, "last": LATEST_DAY.year}
        )
