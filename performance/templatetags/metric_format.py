"""Metric values as people read them: 87.5 %, 6m 05s, +32, 1.42."""

from __future__ import annotations

from django import template

from performance.metrics import Direction, Metric

register = template.Library()

MISSING = "—"


def _trimmed(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_duration(seconds: float) -> str:
    if seconds < 10:
        return f"{_trimmed(seconds, 1)} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes}m {rest:02d}s"
    hours, rest = divmod(whole, 3600)
    return f"{hours}h {rest // 60:02d}m"


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
            return f"{round(value):,}"
        case _:
            return _trimmed(value, 2 if abs(value) < 10 else 1)


@register.filter
def metric_value(value: float | None, metric: Metric) -> str:
    return format_metric_value(value, metric)


@register.filter
def metric_bound(target: float | None, metric: Metric) -> str:
    """A target with its comparison: '≥ 80 %' for higher-is-better, '≤ 6m 00s' for lower."""
    if target is None:
        return MISSING
    symbol = "≥" if metric.direction is Direction.HIGHER else "≤"
    return f"{symbol} {format_metric_value(target, metric)}"
