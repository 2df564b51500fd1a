"""The agent's scorecard (/me/, /agents/<id>/scorecard/) and the interactions behind a number
(/evaluations/<id>/interactions/): who may open them and what they show."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from performance.models import Evaluation
from performance.periods import period_containing
from performance.services.evaluation import evaluate_periods
from performance.services.standards import standard_save
from performance.templatetags.metric_format import format_points
from tests.factories import AgentFactory, UserFactory, make_interactions, make_standard
from tests.scenarios import login, score_week_44, week_standards

pytestmark = pytest.mark.django_db

WEEK_44 = date(2026, 10, 26)  # Monday of ISO week 44, 2026
DAY = "2026-10-28"
ME = reverse("my-scorecard")


def scorecard(agent, day: str | None = DAY) -> str:
    url = reverse("agent-scorecard", args=[agent.id])
    return f"{url}?date={day}" if day else url


def interactions(evaluation: Evaluation) -> str:
    return reverse("evaluation-interactions", args=[evaluation.id])


def evaluation_of(agent, standard, start: date = WEEK_44) -> Evaluation:
    return Evaluation.objects.get(agent=agent, standard=standard, period_start=start)


def cards(html: str) -> dict[str, str]:
    """Each standard card's HTML by the standard's name."""
    found = {}
    for block in html.split('data-testid="standard-card"')[1:]:
        name = re.search(r"<h2>(.*?)</h2>", block).group(1)
        found[name] = block.split("</article>")[0]
    return found


def trend_data(card_html: str) -> dict:
    return json.loads(
        re.search(r'<script type="application/json">(.*?)</script>', card_html, re.S).group(1)
    )


@pytest.fixture
def standards():
    return week_standards()


@pytest.fixture
def scored(standards, alice, paulo, source):
    score_week_44(alice, paulo, source=source, week_before=True)
    return standards


# --- who may open what -------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_every_scorecard_page(client, scored, alice):
    evaluation = evaluation_of(alice, scored["csat"])
    for url in (ME, scorecard(alice), interactions(evaluation)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_agent_opens_their_own_scorecard_from_me(client, alice):
    login(client, alice)

    response = client.get(ME)

    assert response.status_code == 302
    assert response.url == scorecard(alice, day=None)


def test_me_keeps_the_date_asked_for(client, paulo):
    login(client, paulo)

    response = client.get(f"{ME}?date={DAY}")

    assert response.url == scorecard(paulo)


def test_lead_without_an_agent_is_sent_from_me_to_the_team_heatmap(client, bob):
    login(client, bob)

    response = client.get(ME, follow=True)

    assert response.redirect_chain == [(reverse("team-heatmap"), 302)]
    assert "You have no scorecard of your own" in response.content.decode()


def test_user_without_agent_or_team_is_sent_home_from_me(client):
    login(client, UserFactory(username="visitor"))

    response = client.get(ME, follow=True)

    assert response.redirect_chain == [(reverse("home"), 302)]
    assert "not set up as an agent" in response.content.decode()


def test_agent_sees_only_their_own_scorecard(client, scored, alice, paulo):
    login(client, alice)
    assert client.get(scorecard(alice)).status_code == 200
    assert client.get(scorecard(paulo)).status_code == 404

    login(client, paulo)
    assert client.get(scorecard(paulo)).status_code == 200
    assert client.get(scorecard(alice)).status_code == 404


def test_lead_opens_the_scorecards_of_their_team_only(client, scored, alice, paulo, bob, carol):
    login(client, bob)
    assert client.get(scorecard(alice)).status_code == 200
    assert client.get(scorecard(paulo)).status_code == 404

    login(client, carol)
    assert client.get(scorecard(paulo)).status_code == 200
    assert client.get(scorecard(alice)).status_code == 404


def test_admin_opens_every_scorecard(client, scored, alice, paulo, dave):
    login(client, dave)

    assert client.get(scorecard(alice)).status_code == 200
    assert client.get(scorecard(paulo)).status_code == 200


def test_interactions_page_follows_the_scorecard_rule(
    client, scored, alice, paulo, bob, carol, dave
):
    alices = interactions(evaluation_of(alice, scored["csat"]))
    paulos = interactions(evaluation_of(paulo, scored["csat"]))
    expected = {
        alice.user: {alices: 200, paulos: 404},
        paulo.user: {alices: 404, paulos: 200},
        bob: {alices: 200, paulos: 404},
        carol: {alices: 404, paulos: 200},
        dave: {alices: 200, paulos: 200},
    }
    for user, statuses in expected.items():
        login(client, user)
        for url, status in statuses.items():
            assert client.get(url).status_code == status, (user.username, url)


def test_unknown_agent_and_evaluation_are_404(client, dave):
    login(client, dave)

    assert client.get(reverse("agent-scorecard", args=[999999])).status_code == 404
    assert client.get(reverse("evaluation-interactions", args=[999999])).status_code == 404


def test_scorecard_pages_accept_only_get(client, scored, alice):
    login(client, alice)

    assert client.post(scorecard(alice)).status_code == 405
    assert client.post(interactions(evaluation_of(alice, scored["csat"]))).status_code == 405


# --- what the scorecard shows -------------------------------------------------------------


def test_scorecard_shows_value_target_outcome_sample_points_and_version(client, scored, alice):
    login(client, alice)

    html = client.get(scorecard(alice)).content.decode()

    shown = cards(html)
    assert list(shown) == ["Customer satisfaction", "Phone handle time", "Quality"]
    csat = shown["Customer satisfaction"]
    assert 'Customer satisfaction <span class="unit">(%)</span>' in csat
    assert "Week 44, 2026 (26 Oct - 01 Nov)" in csat
    assert 'data-testid="value">100 %</a>' in csat
    assert 'data-testid="outcome">Exceeded</span>' in csat
    assert "≥ 80 %" in csat and "≥ 90 %" in csat
    assert 'data-testid="sample">4</a>' in csat and "/ min 3" in csat
    assert "<strong>20</strong>" in csat
    assert "v1</span>" in csat and "Rule in effect since 1 Jan 2026" in csat
    assert interactions(evaluation_of(alice, scored["csat"])) in csat

    aht = shown["Phone handle time"]
    assert 'data-testid="value">5 min 10 s</a>' in aht
    assert 'data-testid="outcome">Met</span>' in aht
    assert "≤ 6 min 00 s" in aht and "≤ 5 min 00 s" in aht
    assert "Phone ·" in aht
    assert "✓ Quality met" in aht

    assert 'data-testid="value">90</a>' in shown["Quality"]
    assert 'data-testid="passed">3<span class="stat-of"> of 3</span>' in html
    assert 'data-testid="points">40</span>' in html
    assert "Your scorecard" in html


def test_scorecard_says_when_the_gate_takes_the_points_away(client, scored, paulo, source, dave):
    make_interactions(
        paulo,
        source=source,
        on=date(2026, 10, 28),
        count=3,
        handle_seconds=[100, 100, 100],
        qa_score=[50, 60, 70],
    )
    evaluate_periods(since=WEEK_44, until=WEEK_44 + timedelta(days=6))
    login(client, dave)

    html = client.get(scorecard(paulo)).content.decode()

    aht = cards(html)["Phone handle time"]
    assert 'data-testid="value">4 min 20 s</a>' in aht
    assert 'data-testid="outcome">Exceeded</span>' in aht
    assert "✗ Quality not met: no points" in aht
    assert "<strong>0</strong>" in aht
    assert 'data-testid="outcome">Missed</span>' in cards(html)["Quality"]


def test_missing_evaluation_says_not_evaluated_yet_rather_than_zero(client, scored, alice):
    login(client, alice)

    html = client.get(scorecard(alice, day="2026-09-02")).content.decode()

    for card in cards(html).values():
        assert 'data-testid="value">Not evaluated yet</span>' in card
        assert 'data-testid="outcome">Not evaluated yet</span>' in card
        assert ">0 %<" not in card and "<strong>0</strong>" not in card
    assert "No results in the last 12 periods yet." in html


def test_insufficient_data_is_shown_as_such(client, scored, paulo, carol):
    login(client, carol)

    html = client.get(scorecard(paulo)).content.decode()

    quality = cards(html)["Quality"]
    assert 'data-testid="outcome">Insufficient data</span>' in quality
    assert 'data-testid="value">—</a>' in quality
    assert "no QA evaluations" in quality


def test_scorecard_names_the_version_an_evaluation_was_computed_with(client, scored, alice):
    csat = scored["csat"]
    csat.target = 95
    standard_save(standard=csat, effective_from=WEEK_44)
    evaluate_periods(since=date(2026, 10, 19), until=date(2026, 11, 1))
    login(client, alice)

    this_week = cards(client.get(scorecard(alice)).content.decode())["Customer satisfaction"]
    week_before = cards(client.get(scorecard(alice, day="2026-10-21")).content.decode())[
        "Customer satisfaction"
    ]

    assert "v2</span>" in this_week and "Rule in effect since 26 Oct 2026" in this_week
    assert "≥ 95 %" in this_week
    assert "v1</span>" in week_before and "≥ 80 %" in week_before


def test_trend_holds_twelve_periods_with_outcomes_and_targets(client, scored, alice):
    login(client, alice)

    html = client.get(scorecard(alice)).content.decode()

    trend = trend_data(cards(html)["Customer satisfaction"])
    assert trend["unit"] == "%"
    assert trend["has_history"] is True
    points = trend["points"]
    assert len(points) == 12
    assert [p["label"] for p in points[-2:]] == ["W43", "W44"]
    assert [p["outcome"] for p in points[-2:]] == ["missed", "exceeded"]
    assert points[-1]["value"] == 100.0 and points[-1]["sample"] == 4
    assert points[-2]["value"] == pytest.approx(33.333333)
    assert all(p["target"] == 80 and p["stretch"] == 90 for p in points)
    assert points[-1]["url"] == scorecard(alice, day="2026-10-26")
    assert points[0]["outcome"] is None and points[0]["value"] is None
    assert "vendor/chart.umd.js" in html and "js/trend.js" in html


def test_previous_and_next_move_by_the_shortest_period_on_the_card(client, scored, alice):
    login(client, alice)

    html = client.get(scorecard(alice)).content.decode()

    assert f'href="{scorecard(alice, day="2026-10-19")}" rel="prev"' in html
    assert f'href="{scorecard(alice, day="2026-11-02")}" rel="next"' in html
    assert "← Previous week" in html


def test_next_is_disabled_at_the_present(client, scored, alice):
    login(client, alice)
    today = timezone.localtime(timezone=ZoneInfo("Europe/Lisbon")).date()

    html = client.get(scorecard(alice, day=today.isoformat())).content.decode()

    assert 'rel="next"' not in html
    assert 'aria-disabled="true">Next week →' in html


def test_default_is_each_standards_last_complete_period_in_the_agents_team_zone(
    client, standards, alice, source
):
    today = timezone.localtime(timezone=ZoneInfo("Europe/Lisbon")).date()
    yesterday = today - timedelta(days=1)
    last_week = period_containing(today, "week").previous()
    make_interactions(alice, source=source, on=last_week.start, count=3, csat=[5, 5, 5])
    evaluate_periods(since=last_week.start, until=yesterday)
    login(client, alice)

    html = client.get(scorecard(alice, day=None)).content.decode()

    assert f'data-testid="as-of">{yesterday:%a} {yesterday.day} {yesterday:%b %Y}' in html
    card = cards(html)["Customer satisfaction"]
    assert f'data-testid="period">{last_week.label}</span>' in card
    assert 'data-testid="value">100 %</a>' in card
    assert 'data-testid="in-progress"' not in html


@pytest.mark.parametrize(
    "bad", ["yesterday", "2026-13-01", "2026-02-30", "0001-01-01", "9999-12-31"]
)
def test_a_bad_date_is_a_400_that_says_why(client, scored, alice, bad):
    login(client, alice)

    response = client.get(scorecard(alice, day=bad))

    assert response.status_code == 400
    html = response.content.decode()
    assert "That date cannot be shown." in html
    assert f'href="{scorecard(alice, day=None)}"' in html


def test_team_without_standards_gets_a_clear_empty_state(client, alice):
    login(client, alice)

    html = client.get(scorecard(alice)).content.decode()

    assert "No service standard applies to team Lisbon" in html


def test_lead_reaches_the_team_heatmap_from_an_agents_scorecard(client, scored, alice, bob):
    login(client, bob)

    html = client.get(scorecard(alice)).content.decode()

    assert f'href="{reverse("team-heatmap")}?team={alice.team_id}">Team heatmap</a>' in html
    assert "<h1>" in html and alice.display_name in html


def test_scorecard_queries_do_not_grow_with_standards(
    client, alice, source, django_assert_max_num_queries
):
    make_interactions(
        alice, source=source, on=date(2026, 10, 27), count=4, csat=[5, 5, 4, 2], qa_score=90
    )
    login(client, alice)

    def measure() -> int:
        evaluate_periods(since=date(2026, 8, 1), until=date(2026, 11, 1))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(scorecard(alice)).status_code == 200
        return len(queries)

    gate = make_standard(name="QA", metric="qa", period="week", target=80)
    make_standard(name="CSAT", metric="csat", period="week", target=80, quality_gate=gate)
    few = measure()
    for number in range(4):
        make_standard(name=f"CSAT {number}", metric="csat", period="day", target=70 + number)
    make_standard(name="Monthly volume", metric="volume", period="month", target=10)
    many = measure()

    assert many == few
    with django_assert_max_num_queries(7):
        client.get(scorecard(alice))


# --- the interactions behind a number ------------------------------------------------------


def test_interactions_page_lists_the_facts_behind_the_number(client, scored, alice):
    evaluation = evaluation_of(alice, scored["csat"])
    login(client, alice)

    html = client.get(interactions(evaluation)).content.decode()

    assert "Behind the number" in html
    assert 'data-testid="value">100 %</span>' in html
    assert 'data-testid="sample">4 <span class="muted">/ min 3</span>' in html
    assert "The share of these survey responses that are 4 or 5." in html
    assert "CSAT (1-5)" in html and "Satisfied (4-5)" in html
    table = html.split('data-testid="interactions"')[1].split("</table>")[0]
    assert table.count("<tr>") == 5  # header + 4 facts
    assert "Handle time" not in table
    assert "Tue 27 Oct, 12:00" in table  # Lisbon is on UTC again after 25 Oct
    assert f'href="{scorecard(alice, day="2026-10-26")}#standard-{scored["csat"].id}"' in html


def test_interactions_page_shows_the_columns_of_the_metric(client, scored, alice, paulo, source):
    make_interactions(
        alice, source=source, on=date(2026, 10, 28), count=1, channel="chat", handle_seconds=999
    )
    evaluate_periods(since=WEEK_44, until=WEEK_44 + timedelta(days=6))
    login(client, alice)

    html = client.get(interactions(evaluation_of(alice, scored["aht"]))).content.decode()

    table = html.split('data-testid="interactions"')[1].split("</table>")[0]
    assert "Handle time" in table and "CSAT" not in table
    assert table.count("<tr>") == 5  # the chat contact is not on this phone standard
    assert "5 min 00 s" in table and "5 min 20 s" in table
    assert "16 min 39 s" not in table


def test_interactions_are_paginated_by_fifty(client, standards, alice, source):
    make_interactions(alice, source=source, on=date(2026, 10, 27), count=120, csat=4)
    evaluate_periods(since=WEEK_44, until=WEEK_44)
    url = interactions(evaluation_of(alice, standards["csat"]))
    login(client, alice)

    first = client.get(url).content.decode()
    last = client.get(f"{url}?page=3").content.decode()

    assert first.split('data-testid="interactions"')[1].count("<tr>") == 51
    assert "Page 1 of 3 · 120 in all" in first
    assert last.split('data-testid="interactions"')[1].count("<tr>") == 21


def test_htmx_page_switch_returns_only_the_interactions_partial(client, standards, alice, source):
    make_interactions(alice, source=source, on=date(2026, 10, 27), count=60, csat=4)
    evaluate_periods(since=WEEK_44, until=WEEK_44)
    login(client, alice)

    response = client.get(
        f"{interactions(evaluation_of(alice, standards['csat']))}?page=2",
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="interactions"')
    assert "<html" not in html and "Behind the number" not in html
    assert html.count("<tr>") == 11


def test_a_teammate_cannot_open_another_agents_scorecard(client, scored, alice, lisbon):
    other = AgentFactory(team=lisbon)
    login(client, other)

    assert client.get(interactions(evaluation_of(alice, scored["csat"]))).status_code == 404
    assert client.get(scorecard(alice)).status_code == 404


def test_navigation_offers_my_scorecard_to_agents_and_the_team_to_leads(client, alice, bob, dave):
    me = f'href="{ME}"'
    team = f'href="{reverse("team-heatmap")}"'

    login(client, alice)
    agents_home = client.get(reverse("home")).content.decode()
    login(client, bob)
    leads_home = client.get(reverse("home")).content.decode()
    login(client, dave)
    admins_home = client.get(reverse("home")).content.decode()

    assert me in agents_home and team not in agents_home
    assert team in leads_home and me not in leads_home
    assert team in admins_home


# --- penalties -----------------------------------------------------------------------------


@pytest.fixture
def penalised(standards, alice, paulo, source):
    """CSAT costs 10 points when missed from week 44 on: paulo misses it in week 44."""
    csat = standards["csat"]
    csat.points_missed_penalty = 10
    standard_save(standard=csat, effective_from=WEEK_44, rescore=False)
    score_week_44(alice, paulo, source=source)
    return standards


def test_a_missed_period_shows_its_penalty_as_such(client, penalised, paulo, carol):
    login(client, carol)

    html = client.get(scorecard(paulo)).content.decode()

    csat = cards(html)["Customer satisfaction"]
    assert 'data-testid="outcome">Missed</span>' in csat
    assert 'class="penalty" data-testid="penalty">penalty \N{MINUS SIGN}10</strong>' in csat
    assert 'data-testid="missed-penalty">penalty \N{MINUS SIGN}10</dd>' in csat
    assert 'data-testid="points">' in html


def test_the_rule_says_what_a_miss_costs_beside_a_met_period(client, penalised, alice):
    login(client, alice)

    csat = cards(client.get(scorecard(alice)).content.decode())["Customer satisfaction"]

    assert "<strong>20</strong>" in csat
    assert 'data-testid="missed-penalty">penalty \N{MINUS SIGN}10</dd>' in csat
    assert 'data-testid="penalty"' not in csat


def test_a_standard_without_a_penalty_says_nothing_about_one(client, scored, paulo, carol):
    login(client, carol)

    html = client.get(scorecard(paulo)).content.decode()

    assert "penalty" not in html
    assert "<strong>0</strong>" in cards(html)["Customer satisfaction"]


def test_a_penalty_is_grouped_in_the_readers_language():
    with translation.override("pt-br"):
        assert format_points(-1234).endswith("\N{MINUS SIGN}1.234")
        assert format_points(1234) == "1.234"
    with translation.override("en"):
        assert format_points(-1234) == "penalty \N{MINUS SIGN}1,234"


def test_the_interactions_page_explains_the_penalty(client, penalised, paulo, carol):
    login(client, carol)

    html = client.get(interactions(evaluation_of(paulo, penalised["csat"]))).content.decode()

    assert 'data-testid="points">penalty \N{MINUS SIGN}10</dd>' in html
    assert "A missed period costs this standard's penalty of 10 points." in html
