"""Numbers, durations, periods and times as each language writes them; ids never grouped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from performance.metrics import METRICS
from performance.periods import period_containing
from performance.templatetags.metric_format import (
    count,
    format_duration,
    format_metric_value,
    local_time,
)


@pytest.mark.parametrize(
    ("language", "seconds", "expected"),
    [
        ("pt-br", 4.25, "4,2 s"),
        ("pt-br", 45, "45 s"),
        ("pt-br", 310, "5 min 10 s"),
        ("pt-br", 5400, "1 h 30 min"),
        ("pt-br", 3600 * 1500, "1.500 h 00 min"),
        ("en", 4.25, "4.2 s"),
        ("en", 5400, "1 h 30 min"),
    ],
)
def test_durations_read_naturally(language, seconds, expected):
    with translation.override(language):
        assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("language", "metric", "value", "expected"),
    [
        ("pt-br", "csat", 85.24, "85,2 %"),
        ("pt-br", "csat", 80.0, "80 %"),
        ("pt-br", "nps", -12.5, "-12,5"),
        ("pt-br", "volume", 1234.0, "1.234"),
        ("pt-br", "qa", 1234.5, "1.234,5"),
        ("en", "csat", 85.24, "85.2 %"),
        ("en", "volume", 1234.0, "1,234"),
        ("en", "qa", 1234.5, "1,234.5"),
    ],
)
def test_metric_values_follow_the_language(language, metric, value, expected):
    with translation.override(language):
        assert format_metric_value(value, METRICS[metric]) == expected


def test_counts_are_grouped_but_ids_in_urls_are_not():
    template = Template(
        '{% load metric_format %}<a href="/feeds/batches/{{ n }}/">{{ n|count }}</a>'
    )
    with translation.override("pt-br"):
        assert (
            template.render(Context({"n": 12345})) == '<a href="/feeds/batches/12345/">12.345</a>'
        )
    assert count(None) == "—"


def test_period_labels_in_portuguese():
    with translation.override("pt-br"):
        assert period_containing(date(2026, 11, 30), "day").label == "Seg, 30/11/2026"
        assert period_containing(date(2026, 10, 28), "week").label == (
            "Semana 44 de 2026 (26/10 a 01/11)"
        )
        assert period_containing(date(2026, 11, 3), "month").label == "novembro de 2026"


def test_period_labels_in_english():
    with translation.override("en"):
        assert period_containing(date(2026, 10, 28), "week").label == (
            "Week 44, 2026 (26 Oct - 01 Nov)"
        )
        assert period_containing(date(2026, 11, 3), "month").label == "November 2026"


def test_times_are_shown_in_the_active_zone_and_name_it():
    instant = datetime(2026, 11, 30, 17, 5, tzinfo=UTC)
    with translation.override("pt-br"), timezone.override(ZoneInfo("America/Sao_Paulo")):
        assert local_time(instant) == "30/11/2026 14:05 (America/Sao_Paulo)"
    with translation.override("en"), timezone.override(ZoneInfo("Europe/Lisbon")):
        assert local_time(instant) == "2026-11-30 17:05 (Europe/Lisbon)"
