"""One period-key parser for every page, endpoint and command: the same shapes are accepted
everywhere, and a bad or out-of-range key is a clear 400 or command error, never a 500."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from performance.periods import (
    EARLIEST_DAY,
    LATEST_DAY,
    Period,
    PeriodKeyError,
    PeriodKind,
    parse_period_key,
    period_containing,
)
from tests.scenarios import login

GOOD = {
    "2026-10-29": Period(date(2026, 10, 29), date(2026, 10, 30), PeriodKind.DAY),
    "2026-W44": Period(date(2026, 10, 26), date(2026, 11, 2), PeriodKind.WEEK),
    "2026-W4": Period(date(2026, 1, 19), date(2026, 1, 26), PeriodKind.WEEK),
    "2026-10": Period(date(2026, 10, 1), date(2026, 11, 1), PeriodKind.MONTH),
    "2026-1": Period(date(2026, 1, 1), date(2026, 2, 1), PeriodKind.MONTH),
    "2000-01-01": Period(date(2000, 1, 1), date(2000, 1, 2), PeriodKind.DAY),
    "2099-12": Period(date(2099, 12, 1), date(2100, 1, 1), PeriodKind.MONTH),
}
BAD_SHAPE = ["yesterday", "2026-13", "2026-02-30", "2026-W60", "2026-W00", "26-03-03", "2026-3-3"]
OUT_OF_RANGE = ["9999-12", "9999-12-31", "1999-12-31", "0001-01-01", "2100-W01", "1999-12"]


@pytest.mark.parametrize(("key", "period"), GOOD.items())
def test_every_shape_names_its_period(key, period):
    assert parse_period_key(key) == period


def test_a_key_read_as_another_kind_keeps_its_place():
    assert parse_period_key("2026-W44", PeriodKind.MONTH).start == date(2026, 10, 1)
    assert parse_period_key("2026-10-29", "week").start == date(2026, 10, 26)
    assert parse_period_key("2026-10", PeriodKind.DAY).start == date(2026, 10, 1)


@pytest.mark.parametrize("key", BAD_SHAPE)
def test_a_bad_key_says_which_shapes_are_accepted(key):
    with pytest.raises(PeriodKeyError) as error:
        parse_period_key(key)
    assert error.value.message == (
        f"'{key}' is not a day (2026-10-29), an ISO week (2026-W44) or a month (2026-10)."
    )


@pytest.mark.parametrize("key", OUT_OF_RANGE)
def test_a_key_outside_the_supported_years_says_so(key):
    with pytest.raises(PeriodKeyError) as error:
        parse_period_key(key)
    assert error.value.message == f"'{key}' is outside the years 2000 to 2099."


@given(
    day=st.dates(min_value=EARLIEST_DAY, max_value=LATEST_DAY),
    kind=st.sampled_from(list(PeriodKind)),
)
def test_every_periods_key_reads_back_as_the_period(day, kind):
    period = period_containing(day, kind)
    if period.start >= EARLIEST_DAY:
        assert parse_period_key(period.key) == period


# --- every entry point -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key", ["2026-1", "2026-W44", "2026-10-28", "2026-10", "2000-01-01", "2099-12-31", "2099-12"]
)
class TestAcceptedEverywhere:
    def test_heatmap(self, client, bob, key):
        login(client, bob)
        assert client.get(reverse("team-heatmap"), {"period": key}).status_code == 200

    def test_scorecard_page(self, client, alice, key):
        login(client, alice)
        url = reverse("agent-scorecard", args=[alice.id])
        assert client.get(url, {"date": key}).status_code == 200

    def test_scorecard_api(self, client, alice, key):
        login(client, alice)
        url = reverse("api-agent-scorecard", args=[alice.id])
        response = client.get(url, {"period": key})
        assert response.status_code == 200
        assert response.json()["date"] == parse_period_key(key).start.isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize("key", [*OUT_OF_RANGE, "2026-13", "last-week"])
class TestRefusedEverywhere:
    def test_heatmap(self, client, bob, key):
        login(client, bob)
        response = client.get(reverse("team-heatmap"), {"period": key})
        assert response.status_code == 400
        assert parse_error(key) in response.content.decode().replace("&#x27;", "'")

    def test_scorecard_page(self, client, alice, key):
        login(client, alice)
        url = reverse("agent-scorecard", args=[alice.id])
        response = client.get(url, {"date": key})
        assert response.status_code == 400
        assert parse_error(key) in response.content.decode().replace("&#x27;", "'")

    def test_scorecard_api(self, client, alice, key):
        login(client, alice)
        url = reverse("api-agent-scorecard", args=[alice.id])
        response = client.get(url, {"period": key})
        assert response.status_code == 400
        assert response.json() == {"period": [parse_error(key)]}

    def test_evaluate_command(self, key):
        with pytest.raises(CommandError, match=re.escape(parse_error(key))):
            call_command("evaluate", "--until", key)


def parse_error(key: str) -> str:
    with pytest.raises(PeriodKeyError) as error:
        parse_period_key(key)
    return str(error.value.message)


@pytest.mark.django_db
def test_the_evaluate_command_reads_weeks_and_months(capsys):
    call_command("evaluate", "--since", "2026-W44", "--until", "2026-10", "--json")
    out = capsys.readouterr().out
    assert '"since": "2026-10-26"' in out
    assert '"until": "2026-10-31"' in out
