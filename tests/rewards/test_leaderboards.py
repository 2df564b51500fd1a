"""Leaderboards: totals kept with every entry, ranks that share ties, the viewer's own
standing, privacy, team boards and the pages per role."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from rewards import board_cache
from rewards.models import Leaderboard, PointsEntry, PointsTotal
from rewards.selectors import leaderboard_for, total_mismatches, wallboard_for
from rewards.services.ledger import NewEntry, balances_lock, entries_append
from rewards.services.totals import totals_rebuild
from rewards.windows import Span, parse_window, window_containing
from tests.factories import TeamFactory, make_standard
from tests.rewards.helpers import NOV, award, board, judge
from tests.scenarios import agent_in, login

pytestmark = pytest.mark.django_db


MONTH = window_containing(NOV, Span.MONTH)


# -- windows ------------------------------------------------------------------------------


def test_windows_cover_week_month_quarter_and_all_time():
    day = date(2026, 11, 18)
    assert window_containing(day, "week").start == date(2026, 11, 16)
    assert window_containing(day, "month").start == date(2026, 11, 1)
    quarter = window_containing(day, "quarter")
    assert (quarter.start, quarter.end, quarter.key) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
        "2026-Q4",
    )
    assert quarter.next().start == date(2027, 1, 1) and quarter.previous().start == date(2026, 7, 1)
    assert window_containing(day, "all").previous() is None


@pytest.mark.parametrize(
    ("span", "key", "start"),
    [
        ("month", "2026-10", date(2026, 10, 1)),
        ("week", "2026-W44", date(2026, 10, 26)),
        ("quarter", "2026-Q2", date(2026, 4, 1)),
        ("quarter", "2026-05", date(2026, 4, 1)),
        ("month", "2026-10-29", date(2026, 10, 1)),
    ],
)
def test_a_window_key_names_its_window(span, key, start):
    assert parse_window(span, key, today=date(2026, 12, 1)).start == start


@pytest.mark.parametrize("key", ["2026-Q5", "26-Q1", "soon", "1999-12", "2026-13"])
def test_a_bad_window_key_says_why(key):
    from performance.periods import PeriodKeyError

    with pytest.raises(PeriodKeyError) as error:
        parse_window("quarter", key, today=date(2026, 12, 1))
    assert key in error.value.message


# -- totals -------------------------------------------------------------------------------


def test_every_entry_moves_the_totals_of_its_windows_and_its_channel(alice):
    phone = make_standard(name="AHT phone", metric="aht", channel="phone", target=300)
    award(alice, 10, NOV, phone)
    award(alice, 5, NOV + timedelta(days=40))
    totals = {
        (t.span, t.starts_on, t.channel): t.points for t in PointsTotal.objects.filter(agent=alice)
    }
    assert totals[("month", date(2026, 11, 1), "")] == 10
    assert totals[("month", date(2026, 11, 1), "phone")] == 10
    assert totals[("month", date(2026, 12, 1), "")] == 5
    assert ("month", date(2026, 12, 1), "phone") not in totals
    assert totals[("quarter", date(2026, 10, 1), "")] == 15
    assert totals[("all", date(2000, 1, 1), "")] == 15
    assert total_mismatches() == []


def test_spending_moves_no_total(alice):
    award(alice, 50)
    with transaction.atomic():
        balances_lock([alice.pk])
        entries_append(
            [
                NewEntry(alice.pk, -30, PointsEntry.Kind.REDEMPTION_HOLD, NOV, "r:1", "r:1"),
            ]
        )
    assert PointsTotal.objects.get(agent=alice, span="all").points == 50


def test_a_rebuild_gives_the_totals_kept_incrementally(alice, maria):
    chat = make_standard(name="FRT chat", metric="frt", channel="chat", target=60)
    award(alice, 10, NOV, chat)
    award(alice, -3, NOV)
    award(maria, 7, NOV - timedelta(days=9))
    kept = sorted(
        PointsTotal.objects.values_list("agent", "span", "starts_on", "channel", "points")
    )
    PointsTotal.objects.filter(agent=maria).update(points=999)
    assert len(total_mismatches()) > 0
    totals_rebuild()
    assert (
        sorted(PointsTotal.objects.values_list("agent", "span", "starts_on", "channel", "points"))
        == kept
    )
    assert total_mismatches() == []


def test_the_check_command_reports_a_total_that_drifted(alice):
    award(alice, 10)
    PointsTotal.objects.filter(agent=alice, span="week").update(points=11)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="1 leaderboard totals off"):
        call_command("rewards_reconcile", "--check")
    call_command("rewards_leaderboards_rebuild")
    call_command("rewards_reconcile", "--check")


# -- ranking ------------------------------------------------------------------------------


def test_ties_share_a_rank_and_the_next_rank_skips(crowd, dave):
    view = leaderboard_for(board(), MONTH, viewer=dave)
    assert [(row.rank, row.points) for row in view.rows] == [
        (1, 50),
        (2, 40),
        (2, 40),
        (4, 30),
        (5, 20),
        (6, 10),
    ]
    assert view.own is None  # an admin without an agent of their own


def test_a_tie_across_pages_keeps_its_rank(crowd, dave):
    second_page = leaderboard_for(board(top_n=3), MONTH, viewer=dave, page=2)
    assert [(row.rank, row.points) for row in second_page.rows] == [(4, 30), (5, 20), (6, 10)]
    split_tie = leaderboard_for(board(top_n=3), MONTH, viewer=dave, page=1)
    assert split_tie.pages == 2 and [r.rank for r in split_tie.rows] == [1, 2, 2]
    board_of_two = board(top_n=3)
    board_of_two.top_n = 2
    view = leaderboard_for(board_of_two, MONTH, viewer=dave, page=2)
    assert [(row.rank, row.points) for row in view.rows] == [(2, 40), (4, 30)]


def test_an_agent_sees_their_own_rank_outside_the_top_with_the_gap(crowd):
    fabi = crowd[-1]
    view = leaderboard_for(board(top_n=3), MONTH, viewer=fabi.user)
    assert view.own.rank == 6 and view.own.points == 10 and view.own.gap_to_next == 10
    assert not view.own.on_page
    assert [row.points for row in view.own.neighbours] == [30, 20, 10]
    assert view.own.neighbours[-1].is_viewer
    top = leaderboard_for(board(top_n=3), MONTH, viewer=crowd[0].user)
    assert top.own.rank == 1 and top.own.gap_to_next is None and top.own.on_page


def test_an_agent_without_points_ranks_after_everyone_with_points(crowd, lisbon):
    newcomer = agent_in(lisbon, "gil")
    view = leaderboard_for(board(), MONTH, viewer=newcomer.user)
    assert (view.own.rank, view.own.points, view.own.gap_to_next) == (7, 0, 10)


def test_inactive_agents_leave_the_board(crowd, dave):
    crowd[0].active = False
    crowd[0].save(update_fields=["active"])
    view = leaderboard_for(board(), MONTH, viewer=dave)
    assert [row.points for row in view.rows][:1] == [40] and view.rows[0].rank == 1


def test_other_windows_hold_other_points(crowd, dave):
    award(crowd[-1], 100, NOV + timedelta(days=30))
    december = leaderboard_for(
        board(), window_containing(NOV + timedelta(days=30), "month"), viewer=dave
    )
    assert [(row.name, row.points) for row in december.rows] == [(crowd[-1].display_name, 100)]
    all_time = leaderboard_for(board(), window_containing(NOV, "all"), viewer=dave)
    assert all_time.rows[0].points == 110


# -- privacy ------------------------------------------------------------------------------


def test_an_anonymised_board_hides_other_names_from_agents_only(crowd, bob):
    anonymous = board(privacy=Leaderboard.Privacy.ANONYMISED)
    duda = crowd[3]
    view = leaderboard_for(anonymous, MONTH, viewer=duda.user)
    assert [row.name for row in view.rows] == ["", "", "", duda.display_name, "", ""]
    assert all(row.agent_id is None for row in view.rows if not row.is_viewer)
    assert all(row.name for row in leaderboard_for(anonymous, MONTH, viewer=bob).rows)


def test_a_top_n_board_shows_agents_the_top_and_their_neighbours_only(crowd, dave):
    top = board(privacy=Leaderboard.Privacy.TOP_AND_NEIGHBOURS, top_n=3)
    view = leaderboard_for(top, MONTH, viewer=crowd[-1].user, page=2)
    assert view.pages == 1 and [row.points for row in view.rows] == [50, 40, 40]
    assert [row.points for row in view.own.neighbours] == [30, 20, 10]
    assert leaderboard_for(top, MONTH, viewer=dave).pages == 2


def test_the_wall_board_shows_what_the_room_may_see(crowd):
    view = wallboard_for(board(privacy=Leaderboard.Privacy.ANONYMISED), MONTH)
    assert view.own is None and all(row.name == "" for row in view.rows)
    assert wallboard_for(board(), MONTH).rows[0].name == crowd[0].display_name


# -- scopes -------------------------------------------------------------------------------


def test_a_team_board_ranks_only_that_teams_agents(crowd, paulo, sao_paulo, lisbon, dave):
    award(paulo, 500)
    team_board = board(scope=Leaderboard.Scope.TEAM)
    view = leaderboard_for(team_board, MONTH, viewer=dave, team=lisbon)
    assert paulo.pk not in [row.agent_id for row in view.rows] and view.rows[0].points == 50
    assert [
        row.agent_id for row in leaderboard_for(team_board, MONTH, viewer=dave, team=sao_paulo).rows
    ] == [paulo.pk]


def test_a_channel_board_counts_only_its_channels_standards(alice, maria, dave):
    phone = make_standard(name="AHT phone", metric="aht", channel="phone", target=300)
    everywhere = make_standard(name="CSAT", metric="csat", target=80)
    award(alice, 10, NOV, phone)
    award(maria, 90, NOV, everywhere)
    view = leaderboard_for(board(scope="channel", channel="phone"), MONTH, viewer=dave)
    assert [(row.agent_id, row.points) for row in view.rows] == [(alice.pk, 10)]


def test_teams_rank_by_points_per_active_agent_with_a_minimum(lisbon, sao_paulo, dave):
    big = [agent_in(lisbon, f"l{n}") for n in range(4)]
    small = [agent_in(sao_paulo, f"s{n}") for n in range(2)]
    tiny = agent_in(TeamFactory(name="Porto"), "p0")
    for agent in big:
        award(agent, 30)  # 120 points, 30 per agent
    award(small[0], 80)  # 80 points, 40 per agent
    award(tiny, 1000)
    view = leaderboard_for(board(ranks="teams", minimum_agents=2), MONTH, viewer=dave)
    assert [(row.rank, row.name, row.points) for row in view.rows] == [
        (1, "Sao Paulo", 40),
        (2, "Lisbon", 30),
    ]
    assert [row.name for row in view.unranked_teams] == ["Porto"]


def test_periods_under_way_show_as_provisional_apart(alice, dave):
    today = timezone.localdate()
    csat = make_standard(name="CSAT", metric="csat", period="month", target=80)
    judge(alice, csat, today, "exceeded")
    award(alice, 5, today)
    view = leaderboard_for(board(), window_containing(today, "month"), viewer=dave)
    assert view.provisional_shown
    assert [(row.points, row.provisional) for row in view.rows] == [(5, 20)]
    past = leaderboard_for(
        board(), window_containing(today - timedelta(days=62), "month"), viewer=dave
    )
    assert not past.provisional_shown


# -- pages --------------------------------------------------------------------------------


@pytest.fixture
def general(crowd):
    return board(slug="geral", name="Geral")


def test_anonymous_is_sent_to_log_in(client, general):
    for url in (
        reverse("rewards:leaderboards"),
        reverse("rewards:leaderboard", args=["geral"]),
        reverse("rewards:wallboard"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_index_opens_the_first_board(client, general, crowd):
    login(client, crowd[0])
    response = client.get(reverse("rewards:leaderboards"))
    assert response.status_code == 302 and response["Location"].endswith("/leaderboards/geral/")


def test_without_boards_the_index_says_who_sets_them_up(client, alice):
    login(client, alice)
    response = client.get(reverse("rewards:leaderboards"))
    assert response.status_code == 200 and 'data-testid="no-boards"' in response.content.decode()


@pytest.mark.parametrize("who", ["agent", "lead", "other_lead", "admin"])
def test_every_role_opens_a_board(client, general, crowd, bob, carol, dave, who):
    user = {"agent": crowd[2].user, "lead": bob, "other_lead": carol, "admin": dave}[who]
    login(client, user)
    response = client.get(
        reverse("rewards:leaderboard", args=["geral"]), {"window": "month", "period": "2026-11"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="board-rows"' in body and crowd[0].display_name in body
    assert ('data-testid="own-standing"' in body) == (who == "agent")


def test_a_user_with_no_role_sees_no_board(client, general):
    from tests.factories import UserFactory

    login(client, UserFactory(username="nobody"))
    assert client.get(reverse("rewards:leaderboard", args=["geral"])).status_code == 404


def test_an_inactive_board_is_not_found(client, general, crowd):
    general.active = False
    general.save(update_fields=["active"])
    login(client, crowd[0])
    assert client.get(reverse("rewards:leaderboard", args=["geral"])).status_code == 404


def test_a_bad_window_or_page_is_a_clear_400(client, general, crowd):
    login(client, crowd[0])
    url = reverse("rewards:leaderboard", args=["geral"])
    for params, words in (
        ({"window": "year"}, "year"),
        ({"window": "month", "period": "2026-99"}, "2026-99"),
        ({"page": "-1"}, "Page"),
    ):
        response = client.get(url, params)
        assert response.status_code == 400
        assert words in response.content.decode()


def test_an_agent_opens_only_their_own_teams_board(client, crowd, paulo, sao_paulo, lisbon):
    board(slug="equipe", scope=Leaderboard.Scope.TEAM)
    url = reverse("rewards:leaderboard", args=["equipe"])
    login(client, paulo)
    response = client.get(url, {"team": lisbon.pk})
    assert response.status_code == 400  # not one of the teams they may open
    award(paulo, 5)
    body = client.get(url, {"window": "month", "period": "2026-11"}).content.decode()
    assert crowd[0].display_name not in body and paulo.display_name in body


def test_a_lead_opens_the_boards_of_teams_they_lead_only(
    client, crowd, bob, sao_paulo, lisbon, paulo
):
    board(slug="equipe", scope=Leaderboard.Scope.TEAM)
    award(paulo, 5)
    url = reverse("rewards:leaderboard", args=["equipe"])
    login(client, bob)
    november = {"window": "month", "period": "2026-11"}
    body = client.get(url, {"team": lisbon.pk, **november}).content.decode()
    assert crowd[0].display_name in body and paulo.display_name not in body
    assert client.get(url, {"team": sao_paulo.pk, **november}).status_code == 400


def test_htmx_swaps_only_the_board_and_pushes_its_address(client, general, crowd):
    login(client, crowd[0])
    response = client.get(
        reverse("rewards:leaderboard", args=["geral"]),
        {"window": "week", "period": "2026-W45"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section id="board"')
    assert "window=week" in response["HX-Push-Url"] and "2026-W45" in response["HX-Push-Url"]


def test_the_window_switch_and_previous_links_work_without_javascript(client, general, crowd):
    login(client, crowd[0])
    body = client.get(
        reverse("rewards:leaderboard", args=["geral"]), {"window": "month", "period": "2026-11"}
    ).content.decode()
    assert 'href="/rewards/leaderboards/geral/?window=quarter' in body
    assert 'href="/rewards/leaderboards/geral/?window=month&amp;period=2026-10"' in body


def test_the_wall_board_is_for_leads_and_admins(client, general, crowd, bob, dave):
    general.on_wallboard = True
    general.default_window = "all"
    general.save(update_fields=["on_wallboard", "default_window"])
    login(client, crowd[0])
    assert client.get(reverse("rewards:wallboard")).status_code == 404
    for user in (bob, dave):
        login(client, user)
        response = client.get(reverse("rewards:wallboard"))
        body = response.content.decode()
        assert response.status_code == 200 and crowd[0].display_name in body
        assert 'http-equiv="refresh"' in body and "board=0" in body


def test_the_board_page_takes_the_same_queries_whatever_the_crowd(
    client, general, crowd, lisbon, django_assert_num_queries
):
    viewer = crowd[-1]
    login(client, viewer)
    url = reverse("rewards:leaderboard", args=["geral"])
    params = {"window": "month", "period": "2026-11"}
    client.get(url, params)
    # From Redis sorted sets (CACHE_URL set) the ranking costs no query, and the names come
    # from the cache once a read has put them there.
    expected = QUERIES_BOARD_REDIS if board_cache.enabled() else QUERIES_BOARD
    with django_assert_num_queries(expected):
        client.get(url, params)
    for n in range(10):
        award(agent_in(lisbon, f"more{n}"), 5 + n)
    board_cache.forget_all()  # the writes above never commit: the next read builds again
    client.get(url, params)
    with django_assert_num_queries(expected):
        assert client.get(url, params).status_code == 200


QUERIES_BOARD = 9
QUERIES_BOARD_REDIS = 5


def test_an_agents_home_shows_their_rank_this_month_on_the_boards(
    client, lisbon, paulo, django_assert_num_queries
):
    board(slug="geral", name="Geral", position=1)
    board(slug="equipe", name="Equipe", scope=Leaderboard.Scope.TEAM, position=2)
    board(slug="equipes", ranks=Leaderboard.Ranks.TEAMS, position=0)  # ranks teams: not shown
    this_month = timezone.localdate().replace(day=1)
    ana, bea = agent_in(lisbon, "ana"), agent_in(lisbon, "bea")
    award(ana, 30, earned_on=this_month)
    award(bea, 10, earned_on=this_month)
    award(paulo, 50, earned_on=this_month)
    award(bea, 500, earned_on=this_month - timedelta(days=40))  # another month
    login(client, bea)
    client.get(reverse("home"))
    with django_assert_num_queries(12 + 2 * 2):  # the home's queries, two per board shown
        body = client.get(reverse("home")).content.decode()
    ranks = body.split('data-testid="home-rank"')[1:]
    assert len(ranks) == 2
    assert "Geral" in ranks[0] and "#3" in ranks[0] and "of 3 agents" in ranks[0]
    assert "Equipe" in ranks[1] and "#2" in ranks[1] and "of 2 agents" in ranks[1]
    assert "20 points to the next rank" in ranks[1]
