"""Numbers, durations and times as people read them in the active language: 87,5 % and
1.234 in Portuguese, 87.5 % and 1,234 in English; 6 min 05 s, 1 h 30 min; 30/11/2026 14:05
(America/Sao_Paulo).

Numbers are grouped here, never by USE_THOUSAND_SEPARATOR, so ids in URLs and attributes stay
plain digits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from performance.metrics import Direction, Metric

register = template.Library()

MISSING = "—"
# The channels every installation starts with (migration 0002), in the reader's language;
# a channel an admin adds later reads as its code.
CHANNEL_LABELS = {
    "phone": _("Phone"),
    "email": _("E-mail"),
    "chat": _("Chat"),
    "social": _("Social media"),
    "messaging": _("Messaging"),
}


def _trimmed(value: float, decimals: int) -> str:
    """`value` to at most `decimals` places, trailing zeros dropped, grouped by thousands."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    places = len(text.partition(".")[2])
    return number_format(Decimal(text), places, force_grouping=True)


def format_count(value: int) -> str:
    return number_format(value, 0, force_grouping=True)


def format_duration(seconds: float) -> str:
    if seconds < 10:
        return gettext("%(seconds)s s") % {"seconds": _trimmed(seconds, 1)}
    whole = round(seconds)
    if whole < 60:
        return gettext("%(seconds)s s") % {"seconds": whole}
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return gettext("%(minutes)s min %(seconds)02d s") % {"minutes": minutes, "seconds": rest}
    hours, rest = divmod(whole, 3600)
    return gettext("%(hours)s h %(minutes)02d min") % {
        "hours": format_count(hours),
        "minutes": rest // 60,
    }


def format_metric_value(value: float | None, metric: Metric) -> str:
    if value is None:
        return MISSING
    match metric.unit:
        case "%":
            return f"{_trimmed(value, 1)} %"
        case "s":
            return format_duration(value)
        case "pts":
            sign = "+" if value > 0 else ("-" if value < 0 else "")
            return f"{sign}{_trimmed(abs(value), 1)}"
        case "contacts":
            return format_count(round(value))
        case _:
            return _trimmed(value, 2 if abs(value) < 10 else 1)


@register.filter
def metric_value(value: float | None, metric: Metric) -> str:
    return format_metric_value(value, metric)


@register.filter
def metric_change(change: float | None, metric: Metric) -> str:
    """How far a metric moved, without its sign: '6,1 p.p.' for a percentage, '35 s' for a
    duration (the caller says which way)."""
    if change is None:
        return MISSING
    if metric.unit == "%":
        return gettext("%(points)s p.p.") % {"points": _trimmed(abs(change), 1)}
    if metric.unit == "pts":
        return _trimmed(abs(change), 1)
    return format_metric_value(abs(change), metric)


@register.filter
def metric_bound(target: float | None, metric: Metric) -> str:
    """A target with its comparison: '≥ 80 %' for higher-is-better, '≤ 6 min 00 s' for lower."""
    if target is None:
        return MISSING
    symbol = "≥" if metric.direction is Direction.HIGHER else "≤"
    return f"{symbol} {format_metric_value(target, metric)}"


@register.filter
def metric_unit(metric: Metric) -> str:
    """The unit shown beside a metric's name ("" when the number speaks for itself)."""
    match metric.unit:
        case "%":
            return "%"
        case "pts":
            return pgettext("unit", "points")
        case "contacts":
            return pgettext("unit", "contacts")
        case _:
            return ""


@register.filter
def channel_label(code: str) -> str:
    return str(CHANNEL_LABELS.get(code, code.capitalize()))


@register.filter
def count(value: int | None) -> str:
    """A count with thousand separators: 1.234 (pt-BR), 1,234 (en)."""
    return MISSING if value is None else format_count(value)


# Penalties read with a true minus sign, as typeset numbers do.
MINUS = "\N{MINUS SIGN}"


def format_points(value: int) -> str:
    """Points as a judgement earned them: 20, 1.234, and a missed period's penalty as
    "penalty" and the points with a minus sign, so a penalty never reads as a plain number."""
    if value < 0:
        return gettext("penalty %(points)s") % {"points": MINUS + format_count(-value)}
    return format_count(value)


@register.filter
def points(value: int | None) -> str:
    return MISSING if value is None else format_points(value)


@register.filter
def penalty(value: int) -> str:
    """A rule's penalty (stored as points taken away, >= 0) as the points it costs."""
    return format_points(-value) if value else format_count(0)


@register.filter
def duration(seconds: float | None) -> str:
    return MISSING if seconds is None else format_duration(seconds)


@register.filter
def local_time(value: datetime | None, form: str = "SHORT_DATETIME_FORMAT") -> str:
    """An instant in the viewer's zone (performance.middleware activates it), zone named:
    30/11/2026 14:05 (America/Sao_Paulo)."""
    if value is None:
        return MISSING
    shown = timezone.localtime(value)
    return gettext("%(time)s (%(zone)s)") % {
        "time": date_format(shown, form),
        "zone": timezone.get_current_timezone_name(),
    }


@register.filter
def local_date(value: datetime | None, form: str = "SHORT_DATETIME_FORMAT") -> str:
    """An instant in the viewer's zone, without naming it (a column header names it)."""
    return MISSING if value is None else date_format(timezone.localtime(value), form)


@register.simple_tag
def current_zone() -> str:
    return timezone.get_current_timezone_name()
