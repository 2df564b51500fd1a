"""What the pages share: period choices and bounds, query errors, htmx swaps."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from performance.periods import PeriodKind

INTERACTIONS_PER_PAGE = 50
# Periods outside this range have no data, and the trend and prev/next links of a period
# near date.min or date.max would overflow.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
KIND_CHOICES = [
    (PeriodKind.DAY, _("Day")),
    (PeriodKind.WEEK, _("Week")),
    (PeriodKind.MONTH, _("Month")),
]
PERIOD_KEY_SHAPES = [
    (re.compile(r"\d{4}-\d{2}-\d{2}"), PeriodKind.DAY),
    (re.compile(r"\d{4}-W\d{1,2}"), PeriodKind.WEEK),
    (re.compile(r"\d{4}-\d{2}"), PeriodKind.MONTH),
]
KIND_ORDER = [PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH]
KIND_ADJECTIVES = {
    PeriodKind.DAY: _("daily"),
    PeriodKind.WEEK: _("weekly"),
    PeriodKind.MONTH: _("monthly"),
}


def htmx_swap(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (a history restore wants it whole)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def today_in(zone_name: str) -> date:
    return timezone.localtime(timezone=ZoneInfo(zone_name)).date()


def within_range(day: date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(
            _("Pick a date between %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": EARLIEST_DAY.year, "last": LATEST_DAY.year},
        )


def query_errors(form: forms.Form) -> list[str]:
    return [
        f"{form.fields[name].label or name}: {message}" if name != "__all__" else message
        for name, problems in form.errors.items()
        for message in problems
    ]
