"""The team heatmap (/teams/heatmap/): agents x standards for one period, for leads."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from performance.services.evaluation import evaluate_periods
from tests.factories import AgentFactory, UserFactory, make_interactions, make_standard
from tests.scenarios import login, score_week_44, week_standards

pytestmark = pytest.mark.django_db

HEATMAP = reverse("team-heatmap")
WEEK_44 = date(2026, 10, 26)


def heatmap(**params) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"{HEATMAP}?{query}" if query else HEATMAP


def table_of(html: str) -> str:
    return html.split('data-testid="heatmap"')[1].split("</table>")[0]


def row_of(html: str, agent) -> str:
    """The table row of one agent."""
    table = table_of(html)
    start = table.index(f">{agent.display_name}</a>")
    return table[start : table.index("</tr>", start)]


def scorecard_at(agent, day: str) -> str:
    return f"{reverse('agent-scorecard', args=[agent.id])}?date={day}"


@pytest.fixture
def standards():
    return week_standards(daily=True)


@pytest.fixture
def scored(standards, alice, paulo, source):
    score_week_44(alice, paulo, source=source)
    return standards


# --- who may open it -----------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    response = client.get(HEATMAP)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_agents_get_403(client, scored, alice, paulo):
    for agent in (alice, paulo):
        login(client, agent)
        assert client.get(heatmap(period="2026-W44")).status_code == 403


def test_lead_sees_only_their_teams_agents(client, scored, alice, paulo, bob, carol):
    login(client, bob)
    html = client.get(heatmap(period="2026-W44")).content.decode()
    assert alice.display_name in table_of(html)
    assert paulo.display_name not in html
    assert 'name="team"' not in html  # one team: nothing to switch

    login(client, carol)
    html = client.get(heatmap(period="2026-W44")).content.decode()
    assert paulo.display_name in table_of(html)
    assert alice.display_name not in html


def test_lead_cannot_ask_for_another_team(client, scored, bob, sao_paulo, paulo):
    login(client, bob)

    response = client.get(heatmap(period="2026-W44", team=sao_paulo.id))

    assert response.status_code == 400
    html = response.content.decode()
    assert paulo.display_name not in html
    assert "Select a valid choice" in html


def test_admin_sees_every_team_and_can_pick_one(client, scored, alice, paulo, dave, lisbon):
    login(client, dave)

    everyone = client.get(heatmap(period="2026-W44")).content.decode()
    one_team = client.get(heatmap(period="2026-W44", team=lisbon.id)).content.decode()

    assert alice.display_name in table_of(everyone) and paulo.display_name in table_of(everyone)
    assert 'class="heat-team"' in everyone and "Sao Paulo" in everyone
    assert '<select name="team"' in everyone
    assert alice.display_name in table_of(one_team)
    assert paulo.display_name not in table_of(one_team)


def test_lead_of_several_teams_gets_the_team_switch(client, scored, bob, sao_paulo, paulo):
    sao_paulo.leads.add(bob)
    login(client, bob)

    html = client.get(heatmap(period="2026-W44")).content.decode()

    assert '<select name="team"' in html
    assert paulo.display_name in table_of(html)


def test_lead_without_a_team_is_told_so(client, scored):
    login(client, UserFactory(username="erin", groups=["Team Lead"]))

    html = client.get(HEATMAP).content.decode()

    assert "You do not lead a team yet" in html


def test_heatmap_accepts_only_get(client, bob):
    login(client, bob)

    assert client.post(HEATMAP).status_code == 405


# --- what it shows -------------------------------------------------------------------------


def test_cells_carry_value_and_outcome_and_open_the_scorecard(client, scored, alice, paulo, dave):
    login(client, dave)

    html = client.get(heatmap(kind="week", period="2026-W44")).content.decode()

    assert 'data-testid="period">Week 44, 2026 (26 Oct - 01 Nov)</h2>' in html
    header = table_of(html).split("</thead>")[0]
    assert re.findall(r'class="heat-standard">(.*?)<', header) == [
        "Customer satisfaction",
        "Phone handle time",
        "Quality",
    ]
    assert "≥ 80 %" in header and "≤ 6 min 00 s · phone" in header

    alices = row_of(html, alice)
    assert re.findall(r'<td class="heat heat-(\w+)"', alices) == ["exceeded", "met", "met"]
    assert '<span class="heat-value">100 %</span>' in alices
    assert '<span class="heat-value">5 min 10 s</span>' in alices
    assert f'href="{scorecard_at(alice, "2026-10-26")}#standard-{scored["csat"].id}"' in alices

    paulos = row_of(html, paulo)
    assert re.findall(r'<td class="heat heat-(\w+)"', paulos) == [
        "missed",
        "missed",
        "insufficient_data",
    ]
    assert '<span class="heat-value">33.3 %</span>' in paulos
    assert '<span class="heat-sample">n=0</span>' in paulos
    assert "1 / 2" in html.split("<tfoot>")[1]


def test_an_agent_without_an_evaluation_shows_not_evaluated_yet(client, scored, lisbon, bob):
    newcomer = AgentFactory(team=lisbon)
    login(client, bob)

    html = client.get(heatmap(period="2026-W44")).content.decode()

    row = row_of(html, newcomer)
    assert row.count('class="heat heat-none"') == 3
    assert "not evaluated yet" in row


def test_a_standard_of_another_team_reads_does_not_apply(
    client, scored, alice, paulo, dave, sao_paulo, source
):
    make_standard(name="Sao Paulo QA", metric="qa", period="week", target=80, teams=[sao_paulo])
    evaluate_periods(since=WEEK_44, until=WEEK_44)
    login(client, dave)

    html = client.get(heatmap(period="2026-W44")).content.decode()

    assert "does not apply to team Lisbon" in row_of(html, alice)
    assert "does not apply" not in row_of(html, paulo)


def test_kind_switches_to_the_standards_of_that_period_length(client, scored, alice, bob):
    login(client, bob)

    html = client.get(heatmap(kind="day", period="2026-10-27")).content.decode()

    assert 'data-testid="period">Tue 27 Oct 2026</h2>' in html
    assert re.findall(r'class="heat-standard">(.*?)<', table_of(html)) == ["Daily CSAT"]
    assert '<span class="heat-value">100 %</span>' in row_of(html, alice)


def test_a_period_key_of_another_kind_keeps_the_place(client, scored, bob):
    login(client, bob)

    html = client.get(heatmap(kind="month", period="2026-W44")).content.decode()

    assert 'data-testid="period">October 2026</h2>' in html
    assert 'name="period" value="2026-10"' in html
    assert "No monthly standard applies to team Lisbon" in html


def test_channel_switch_keeps_all_channel_standards_and_that_channel(client, scored, bob):
    login(client, bob)

    html = client.get(heatmap(period="2026-W44", channel="chat")).content.decode()

    names = re.findall(r'class="heat-standard">(.*?)<', table_of(html))
    assert names == ["Customer satisfaction", "Quality"]
    assert '<option value="chat" selected>' in html


def test_previous_and_next_links_keep_the_switches(client, scored, bob, lisbon):
    login(client, bob)

    html = client.get(heatmap(kind="week", period="2026-W44", channel="phone")).content.decode()

    previous = f"{HEATMAP}?kind=week&amp;period=2026-W43&amp;channel=phone"
    following = f"{HEATMAP}?kind=week&amp;period=2026-W45&amp;channel=phone"
    assert f'href="{previous}" rel="prev"' in html
    assert f'hx-get="{previous}" hx-target="#heatmap"' in html
    assert f'href="{following}" rel="next"' in html


def test_default_period_is_the_last_complete_week_in_the_teams_zone(client, standards, bob):
    today = timezone.localtime(timezone=ZoneInfo("Europe/Lisbon")).date()
    monday = today - timedelta(days=today.weekday() + 7)
    login(client, bob)

    html = client.get(HEATMAP).content.decode()

    assert f"Week {monday.isocalendar()[1]}, {monday.isocalendar()[0]} ({monday:%d %b}" in html
    assert '<option value="week" selected>' in html
    assert "Last complete</a>" not in html
    assert 'data-testid="in-progress"' not in html


def test_htmx_request_gets_only_the_table_partial_and_the_canonical_url(client, scored, bob):
    login(client, bob)

    response = client.get(
        heatmap(kind="month", period="2026-W44", channel=""), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="heatmap"')
    assert "<html" not in html and "<h1>" not in html
    assert response["HX-Push-Url"] == f"{HEATMAP}?kind=month&period=2026-10"
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, scored, bob):
    login(client, bob)

    response = client.get(
        heatmap(period="2026-W44"),
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert "<html" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"period": "2026-W60"},
        {"period": "last-week"},
        {"period": "2026-13"},
        {"period": "0001-01-01"},
        {"kind": "year", "period": "2026"},
        {"channel": "fax"},
        {"team": "lisbon"},
    ],
)
def test_bad_parameters_are_a_400_that_says_why(client, scored, bob, params):
    login(client, bob)

    response = client.get(heatmap(**params))

    assert response.status_code == 400
    html = response.content.decode()
    assert "That heatmap cannot be shown." in html
    assert f'href="{HEATMAP}">Show the latest week</a>' in html


def test_heatmap_queries_do_not_grow_with_agents_or_standards(
    client, dave, lisbon, sao_paulo, source, django_assert_max_num_queries
):
    login(client, dave)
    make_standard(name="CSAT", metric="csat", period="week", target=80)
    make_standard(name="QA", metric="qa", period="week", target=80, teams=[lisbon])

    def add_agents(count: int) -> None:
        for number in range(count):
            agent = AgentFactory(team=lisbon if number % 2 else sao_paulo)
            make_interactions(
                agent, source=source, on=date(2026, 10, 27), count=2, csat=5, qa_score=90
            )

    def measure() -> int:
        evaluate_periods(since=WEEK_44, until=WEEK_44)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(heatmap(period="2026-W44"))
        assert response.status_code == 200
        return len(queries)

    add_agents(2)
    few = measure()
    add_agents(4)
    for number in range(4):
        make_standard(
            name=f"Weekly {number}", metric="volume", period="week", target=1, teams=[sao_paulo]
        )
    many = measure()

    assert many == few
    with django_assert_max_num_queries(11):
        client.get(heatmap(period="2026-W44"))


def test_next_stops_at_the_period_under_way(client, standards, bob):
    today = timezone.localtime(timezone=ZoneInfo("Europe/Lisbon")).date()
    login(client, bob)

    yesterday_html = client.get(heatmap(kind="day")).content.decode()
    today_html = client.get(heatmap(kind="day", period=today.isoformat())).content.decode()

    assert f"period={today.isoformat()}" in yesterday_html.split('rel="next"')[0].rsplit("<a", 1)[1]
    assert 'rel="next"' not in today_html
    assert 'aria-disabled="true">Next →' in today_html
