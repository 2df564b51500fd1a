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

from performance.models import Evaluation
from performance.periods import (
    EARLIEST_DAY,
    LATEST_DAY,
    Period,
    PeriodKeyError,
    PeriodKind,
    parse_period_key,
    period_containing,
)
from performance.services.evaluation import evaluate_periods
from tests.factories import make_interactions, make_standard
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


# --- the sweep: every page, endpoint and command that takes a period or a day ----------------

HOSTILE_KEYS = ["9999-12", "0046-01-01", "2100-01", "garbage"]
VIEWERS = ["alice", "bob", "dave"]  # the agent, the lead of her team, an admin


def refused_message(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.mark.django_db
@pytest.mark.parametrize("key", HOSTILE_KEYS)
class TestEveryEntryPointRefusesKeysOutsideTheRange:
    @pytest.mark.parametrize("persona", VIEWERS)
    def test_scorecard_page(self, client, request, alice, persona, key):
        login(client, request.getfixturevalue(persona))
        response = client.get(reverse("agent-scorecard", args=[alice.id]), {"date": key})
        assert response.status_code == 400
        assert parse_error(key) in refused_message(response)

    def test_my_scorecard(self, client, alice, key):
        login(client, alice)
        response = client.get(reverse("my-scorecard"), {"date": key}, follow=True)
        assert response.status_code == 400
        assert parse_error(key) in refused_message(response)

    @pytest.mark.parametrize("persona", ["bob", "dave"])
    def test_heatmap(self, client, request, persona, key):
        login(client, request.getfixturevalue(persona))
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(reverse("team-heatmap"), {"period": key}, **headers)
            assert response.status_code == 400
            assert parse_error(key) in refused_message(response)

    def test_heatmap_refuses_an_agent_before_reading_the_key(self, client, alice, key):
        login(client, alice)
        assert client.get(reverse("team-heatmap"), {"period": key}).status_code == 403

    @pytest.mark.parametrize("persona", VIEWERS)
    def test_scorecard_api(self, client, request, alice, persona, key):
        login(client, request.getfixturevalue(persona))
        url = reverse("api-agent-scorecard", args=[alice.id])
        response = client.get(url, {"period": key})
        assert response.status_code == 400
        assert response.json() == {"period": [parse_error(key)]}

    @pytest.mark.parametrize("persona", VIEWERS)
    @pytest.mark.parametrize("name", ["since", "until"])
    def test_evaluations_api(self, client, request, persona, name, key):
        login(client, request.getfixturevalue(persona))
        response = client.get(reverse("api-evaluations"), {name: key})
        assert response.status_code == 400
        (message,) = response.json()[name]
        if key == "0046-01-01":
            assert message == "'0046-01-01' is outside the years 2000 to 2099."
        else:
            assert message.startswith("Date has wrong format.")

    def test_the_interactions_list_takes_no_period(self, client, alice, source, key):
        """Its period comes from the evaluation; a hostile page number is just a page."""
        make_standard(name="CSAT", metric="csat", period="day")
        make_interactions(alice, source=source, on=date(2026, 3, 2), csat=5)
        evaluate_periods(since=date(2026, 3, 2), until=date(2026, 3, 2))
        evaluation = Evaluation.objects.get(agent=alice)
        login(client, alice)
        url = reverse("evaluation-interactions", args=[evaluation.id])
        assert client.get(url, {"page": key, "date": key, "period": key}).status_code == 200

    @pytest.mark.parametrize("field", ["active_from", "active_until"])
    def test_rule_preview_and_standard_form(self, client, dave, field, key):
        login(client, dave)
        data = {
            "name": "CSAT",
            "metric": "csat",
            "channel": "",
            "period": "day",
            "active_from": "2026-01-01",
            "target": "80",
            "min_sample": "1",
            "points_met": "10",
            "points_exceeded": "20",
            "points_missed_penalty": "0",
            "coaching_missed": "2",
            "coaching_window": "3",
            "coaching_resolve_after": "2",
            field: key,
        }
        for url, headers in (
            (reverse("admin:performance_servicestandard_add"), {}),
            (reverse("admin:performance_servicestandard_preview_add"), {"HTTP_HX_REQUEST": "true"}),
        ):
            response = client.post(url, data, **headers)
            assert response.status_code == 200
            page = response.content.decode()
            assert ("outside the supported days" in page) or ("Enter a valid date." in page)

    @pytest.mark.parametrize("field", ["active_from", "active_until", "effective_from"])
    def test_standards_api(self, client, dave, field, key):
        login(client, dave)
        body = {"name": "CSAT", "metric": "csat", "active_from": "2026-01-01", "target": 80}
        response = client.post(
            reverse("api-standards"), {**body, field: key}, content_type="application/json"
        )
        assert response.status_code == 400
        message = " ".join(response.json()[field])
        assert ("outside the supported days" in message) or message.startswith(
            "Date has wrong format."
        )

    @pytest.mark.parametrize("option", ["--since", "--until"])
    def test_evaluate_command(self, option, key):
        with pytest.raises(CommandError, match=re.escape(parse_error(key))):
            call_command("evaluate", option, key)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--start", "0046-01-01"], "'0046-01-01' is outside the years 2000 to 2099."),
        (["--start", "2099-12-01", "--days", "60"], "'2100-01-29' is outside the years"),
        (["--days", str(10**5)], "outside the years 2000 to 2099"),
        (["--days", str(10**7)], "reaches beyond the calendar"),
        (["--start", "2026-01-01", "--days", str(10**12)], "reaches beyond the calendar"),
    ],
)
def test_generate_feed_refuses_days_outside_the_range(tmp_path, arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("generate_feed", str(tmp_path / "feed.csv"), "--rows", "1", *arguments)
