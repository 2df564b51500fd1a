"""What the pages share: period choices and bounds, query errors, htmx swaps."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from performance.periods import Period, PeriodKeyError, PeriodKind, parse_period_key

INTERACTIONS_PER_PAGE = 50
KIND_CHOICES = [
    (PeriodKind.DAY, _("Day")),
    (PeriodKind.WEEK, _("Week")),
    (PeriodKind.MONTH, _("Month")),
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


class PeriodKeyField(forms.CharField):
    """A period key of any accepted shape (2026-10-29, 2026-W44, 2026-10), cleaned to the
    Period it names by periods.parse_period_key, whose message a bad key shows."""

    def to_python(self, value: str | None) -> Period | None:
        key = super().to_python(value)
        if not key:
            return None
        try:
            return parse_period_key(key)
        except PeriodKeyError as error:
            raise forms.ValidationError(error.message, code="invalid_period") from None


def query_errors(form: forms.Form) -> list[str]:
    return [
        f"{form.fields[name].label or name}: {message}" if name != "__all__" else message
        for name, problems in form.errors.items()
        for message in problems
    ]
