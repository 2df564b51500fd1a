"""Scorecards and the heatmap open on the last complete period, in the team's own zone; a
period still under way, opened on purpose, says it is in progress and reads "so far"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from performance.periods import PeriodKind, last_complete_period, period_containing
from performance.services.evaluation import evaluate_periods
from tests.factories import (
    AgentFactory,
    TeamFactory,
    UserFactory,
    make_interactions,
    make_lead,
    make_standard,
)
from tests.performance.test_views_scorecard import cards

pytestmark = pytest.mark.django_db

# Monday 30 November 2026, 01:00 UTC: Monday in Tokyo (UTC+9), still Sunday in Sao Paulo (UTC-3).
MONDAY_IN_TOKYO = datetime(2026, 11, 30, 1, tzinfo=UTC)
# Monday 30 November 2026, 23:00 UTC: Tuesday 1 December in Tokyo, Monday in Sao Paulo.
FIRST_IN_TOKYO = datetime(2026, 11, 30, 23, tzinfo=UTC)

# (instant, team zone) -> the last complete day, ISO week and month
EXPECTED = [
    (MONDAY_IN_TOKYO, "America/Sao_Paulo", "2026-11-28", "2026-W47", "2026-10"),
    (MONDAY_IN_TOKYO, "Asia/Tokyo", "2026-11-29", "2026-W48", "2026-10"),
    (FIRST_IN_TOKYO, "America/Sao_Paulo", "2026-11-29", "2026-W48", "2026-10"),
    (FIRST_IN_TOKYO, "Asia/Tokyo", "2026-11-30", "2026-W48", "2026-11"),
]


@pytest.fixture
def standards():
    return {
        kind: make_standard(
            name=f"CSAT {kind}", metric="csat", period=kind, target=80, min_sample=1
        )
        for kind in ("day", "week", "month")
    }


@pytest.fixture
def frozen(monkeypatch):
    def freeze(instant: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: instant)

    return freeze


def agent_in(zone: str):
    team = TeamFactory(name=zone, time_zone=zone)
    return AgentFactory(team=team, user=UserFactory(groups=["Agent"]))


def api(agent_id: int) -> str:
    return reverse("api-agent-scorecard", args=[agent_id])


def test_last_complete_period_is_yesterday_last_week_and_last_month():
    tuesday_first = date(2026, 12, 1)
    assert last_complete_period("day", today=tuesday_first).key == "2026-11-30"
    assert last_complete_period("week", today=tuesday_first).key == "2026-W48"
    assert last_complete_period("month", today=tuesday_first).key == "2026-11"
    assert last_complete_period(PeriodKind.WEEK, today=date(2026, 11, 30)).key == "2026-W48"


def test_a_period_is_complete_from_the_day_after_its_last():
    week = period_containing(date(2026, 11, 23), "week")  # Monday 23 to Sunday 29
    assert not week.is_complete(date(2026, 11, 23))
    assert not week.is_complete(date(2026, 11, 29))
    assert week.is_complete(date(2026, 11, 30))


@pytest.mark.parametrize(("instant", "zone", "day", "week", "month"), EXPECTED)
def test_the_scorecard_api_defaults_to_the_last_complete_periods_in_the_team_zone(
    client, frozen, standards, instant, zone, day, week, month
):
    frozen(instant)
    agent = agent_in(zone)
    client.force_login(agent.user)

    body = client.get(api(agent.id)).json()

    periods = {row["standard"]["name"]: row["period"]["key"] for row in body["standards"]}
    assert periods == {"CSAT day": day, "CSAT week": week, "CSAT month": month}
    assert body["date"] == day
    assert not any(row["in_progress"] for row in body["standards"])


@pytest.mark.parametrize(("instant", "zone", "day", "week", "month"), EXPECTED)
def test_the_scorecard_page_defaults_to_the_last_complete_periods_in_the_team_zone(
    client, frozen, standards, instant, zone, day, week, month
):
    frozen(instant)
    agent = agent_in(zone)
    client.force_login(agent.user)

    html = client.get(reverse("agent-scorecard", args=[agent.id])).content.decode()

    shown = cards(html)
    for name, kind, key in [("day", "day", day), ("week", "week", week), ("month", "month", month)]:
        period = last_complete_period(kind, today=date.fromisoformat(day) + timedelta(days=1))
        assert period.key == key
        assert f'data-testid="period">{period.label}</span>' in shown[f"CSAT {name}"]
    assert 'data-testid="in-progress"' not in html
    assert 'data-testid="in-progress-note"' not in html


@pytest.mark.parametrize(("instant", "zone", "day", "week", "month"), EXPECTED)
def test_the_heatmap_defaults_to_the_last_complete_period_in_the_team_zone(
    client, frozen, standards, instant, zone, day, week, month
):
    frozen(instant)
    agent = agent_in(zone)
    lead = make_lead(agent.team)
    client.force_login(lead)

    for kind, key in [("day", day), ("week", week), ("month", month)]:
        html = client.get(reverse("team-heatmap"), {"kind": kind}).content.decode()
        assert f'name="period" value="{key}"' in html
        assert 'data-testid="in-progress"' not in html


def test_a_week_under_way_opened_on_purpose_reads_so_far(client, frozen, standards, source):
    frozen(FIRST_IN_TOKYO)
    agent = agent_in("Asia/Tokyo")
    make_interactions(agent, source=source, on=date(2026, 12, 1), count=2, csat=[5, 4])
    make_interactions(agent, source=source, on=date(2026, 11, 30), count=1, csat=[5])
    evaluate_periods(since=date(2026, 11, 1), until=date(2026, 12, 1))
    client.force_login(agent.user)

    html = client.get(reverse("agent-scorecard", args=[agent.id]), {"date": "2026-12-01"})
    html = html.content.decode()

    shown = cards(html)
    for name in ("CSAT day", "CSAT week", "CSAT month"):
        assert 'data-testid="in-progress"' in shown[name]
        assert 'data-testid="outcome">Met so far</span>' in shown[name]
    assert "Met or exceeded so far" in html
    assert "3 of these periods are still in progress" in html

    body = client.get(api(agent.id), {"period": "2026-12-01"}).json()
    assert [row["in_progress"] for row in body["standards"]] == [True, True, True]


def test_the_last_complete_period_reads_final_beside_one_under_way(
    client, frozen, standards, source
):
    frozen(FIRST_IN_TOKYO)  # Tuesday 1 December in Tokyo
    agent = agent_in("Asia/Tokyo")
    make_interactions(agent, source=source, on=date(2026, 11, 30), count=1, csat=[5])
    evaluate_periods(since=date(2026, 11, 1), until=date(2026, 12, 1))
    client.force_login(agent.user)

    html = client.get(reverse("agent-scorecard", args=[agent.id]), {"date": "2026-11-30"})
    shown = cards(html.content.decode())

    assert 'data-testid="outcome">Met</span>' in shown["CSAT day"]
    assert 'data-testid="outcome">Met</span>' in shown["CSAT month"]
    assert 'data-testid="outcome">Met so far</span>' in shown["CSAT week"]  # Mon 30 Nov - Sun 6 Dec
    assert 'data-testid="in-progress"' in shown["CSAT week"]
    assert "One of these periods is still in progress" in html.content.decode()


def test_the_heatmap_of_a_week_under_way_says_so(client, frozen, standards, source):
    frozen(FIRST_IN_TOKYO)
    agent = agent_in("Asia/Tokyo")
    lead = make_lead(agent.team)
    make_interactions(agent, source=source, on=date(2026, 12, 1), count=1, csat=[5])
    evaluate_periods(since=date(2026, 11, 30), until=date(2026, 12, 1))
    client.force_login(lead)

    html = client.get(reverse("team-heatmap"), {"kind": "week", "period": "2026-W49"})
    html = html.content.decode()

    assert 'data-testid="in-progress"' in html
    assert "(met so far)" in html
    assert "Met or exceeded so far" in html
    assert "Last complete</a>" in html
