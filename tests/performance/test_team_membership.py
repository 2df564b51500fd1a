"""Team membership has dates: a move keeps past periods in the old team (scope and zone), new
periods follow the new team, pages of past periods show who was in the team then."""

from __future__ import annotations

import contextlib
import importlib
import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import MEMBERSHIP_ORIGIN, Agent, Evaluation, FeedSource
from performance.selectors import evaluation_interactions
from performance.services.evaluation import evaluate_periods
from performance.services.ingest.agents import AgentDirectory, agent_create_from_feed
from performance.services.organisation import MOVE_BACKDATE_DAYS, agent_move_team
from tests.factories import AgentFactory, InteractionFactory, TeamFactory, make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db

HEATMAP = reverse("team-heatmap")


def today_in(zone: str) -> date:
    return timezone.localtime(timezone=ZoneInfo(zone)).date()


# The move: Monday of the week before last (both zones agree on which week that is), so the
# week before it and the week it starts are complete.
TODAY = today_in("America/Sao_Paulo")
MOVE_MONDAY = TODAY - timedelta(days=TODAY.weekday() + 7)
WEEK_BEFORE = MOVE_MONDAY - timedelta(days=7)
WEEK_AFTER = MOVE_MONDAY


def week_key(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def fact(agent: Agent, source: FeedSource, when: datetime, **fields) -> None:
    InteractionFactory(agent=agent, source=source, started_at=when, **fields)


@pytest.fixture
def standards(lisbon, sao_paulo):
    return {
        "lisbon": make_standard(
            name="Lisbon CSAT",
            metric="csat",
            period="week",
            target=80,
            min_sample=1,
            active_from=WEEK_BEFORE - timedelta(days=60),
            teams=[lisbon],
        ),
        "sao_paulo": make_standard(
            name="Sao Paulo volume",
            metric="volume",
            period="week",
            target=1,
            min_sample=1,
            active_from=WEEK_BEFORE - timedelta(days=60),
            teams=[sao_paulo],
        ),
        "daily": make_standard(
            name="Daily volume",
            metric="volume",
            period="day",
            target=1,
            min_sample=1,
            active_from=WEEK_BEFORE - timedelta(days=60),
        ),
    }


def move(agent, team, on, by, callbacks_runner):
    with callbacks_runner(execute=True):
        return agent_move_team(agent=agent, team=team, effective_on=on, moved_by=by)


def evaluation(agent, standard, start) -> Evaluation | None:
    return Evaluation.objects.filter(agent=agent, standard=standard, period_start=start).first()


# --- the service ---------------------------------------------------------------------------


def test_a_move_closes_the_current_membership_and_opens_one_in_the_new_team(
    alice, lisbon, sao_paulo, dave, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        membership = agent_move_team(
            agent=alice, team=sao_paulo, effective_on=MOVE_MONDAY, moved_by=dave
        )

    history = list(
        alice.memberships.order_by("starts_on").values_list("team", "starts_on", "ends_on")
    )
    assert history == [
        (lisbon.id, MEMBERSHIP_ORIGIN, MOVE_MONDAY),
        (sao_paulo.id, MOVE_MONDAY, None),
    ]
    assert membership.created_by == dave
    alice.refresh_from_db()
    assert alice.team == sao_paulo
    # Re-scored after commit, only this agent, from the effective day.
    assert [(c.func.__self__.name, c.args) for c in callbacks] == [
        ("performance.evaluate_agent_since", (alice.id, MOVE_MONDAY.isoformat()))
    ]


@pytest.mark.parametrize(
    ("effective_on", "field", "message"),
    [
        (TODAY + timedelta(days=2), "effective_on", "cannot be dated after today"),
        (TODAY - timedelta(days=MOVE_BACKDATE_DAYS + 1), "effective_on", "dated back to"),
    ],
)
def test_moves_in_the_future_or_too_far_back_are_refused(
    alice, sao_paulo, dave, effective_on, field, message
):
    with pytest.raises(ValidationError) as refused:
        agent_move_team(agent=alice, team=sao_paulo, effective_on=effective_on, moved_by=dave)

    assert message in " ".join(refused.value.message_dict[field])
    assert alice.memberships.count() == 1
    alice.refresh_from_db()
    assert alice.team.name == "Lisbon"


def test_a_move_to_the_current_team_or_before_the_current_membership_is_refused(
    alice, lisbon, sao_paulo, dave, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError) as same:
        agent_move_team(agent=alice, team=lisbon, effective_on=MOVE_MONDAY, moved_by=dave)
    assert "already in team Lisbon" in same.value.message_dict["team"][0]

    move(alice, sao_paulo, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as earlier:
        agent_move_team(
            agent=alice, team=lisbon, effective_on=MOVE_MONDAY - timedelta(days=1), moved_by=dave
        )
    assert "dated back to" in earlier.value.message_dict["effective_on"][0]


def test_a_move_dated_on_the_day_the_membership_began_corrects_it(
    alice, lisbon, sao_paulo, dave, django_capture_on_commit_callbacks
):
    porto = TeamFactory(name="Porto", time_zone="Europe/Lisbon")
    move(alice, sao_paulo, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)

    move(alice, porto, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)
    assert list(alice.memberships.values_list("team", "ends_on")) == [
        (lisbon.id, MOVE_MONDAY),
        (porto.id, None),
    ]

    # Back to the team before, on the same day: the mistaken move is undone.
    move(alice, lisbon, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)
    assert list(alice.memberships.values_list("team", "starts_on", "ends_on")) == [
        (lisbon.id, MEMBERSHIP_ORIGIN, None)
    ]
    alice.refresh_from_db()
    assert alice.team == lisbon


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moves=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),
            st.integers(min_value=-MOVE_BACKDATE_DAYS - 3, max_value=2),
        ),
        max_size=6,
    )
)
def test_memberships_never_overlap_and_cover_every_day_whatever_the_moves(
    moves, django_capture_on_commit_callbacks
):
    teams = [TeamFactory(name=name, time_zone="UTC") for name in ("North", "South", "East")]
    agent = AgentFactory(team=teams[0])
    for team_index, offset in moves:
        with contextlib.suppress(ValidationError):
            agent_move_team(
                agent=agent,
                team=teams[team_index],
                effective_on=TODAY + timedelta(days=offset),
                moved_by=None,
            )
        history = list(agent.memberships.order_by("starts_on"))
        assert history[0].starts_on == MEMBERSHIP_ORIGIN
        for earlier, later in itertools.pairwise(history):
            assert earlier.ends_on == later.starts_on  # no gap, no overlap
        assert history[-1].ends_on is None
        assert sum(m.ends_on is None for m in history) == 1
        agent.refresh_from_db()
        assert agent.team_id == history[-1].team_id
    Agent.objects.filter(pk=agent.pk).delete()
    for team in teams:
        team.delete()


# --- evaluation follows membership ---------------------------------------------------------


def test_past_periods_stay_judged_in_the_old_team_and_new_ones_in_the_new_team(
    alice, lisbon, sao_paulo, dave, source, standards, django_capture_on_commit_callbacks
):
    fact(alice, source, at(WEEK_BEFORE + timedelta(days=1), 12), csat=5)
    fact(alice, source, at(WEEK_AFTER + timedelta(days=1), 12), csat=5)
    evaluate_periods(since=WEEK_BEFORE, until=WEEK_AFTER + timedelta(days=6))
    before = evaluation(alice, standards["lisbon"], WEEK_BEFORE)
    assert before is not None and before.outcome == "met"

    move(alice, sao_paulo, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)

    kept = evaluation(alice, standards["lisbon"], WEEK_BEFORE)
    assert (kept.id, kept.outcome, kept.computed_at) == (
        before.id,
        before.outcome,
        before.computed_at,
    )
    assert evaluation(alice, standards["sao_paulo"], WEEK_BEFORE) is None
    after = evaluation(alice, standards["sao_paulo"], WEEK_AFTER)
    assert after is not None and (after.outcome, after.sample_size) == ("met", 1)

    # A full re-run gives the same: the old team's scope for the old week, the new one after.
    evaluate_periods(since=WEEK_BEFORE, until=WEEK_AFTER + timedelta(days=6))
    assert evaluation(alice, standards["sao_paulo"], WEEK_BEFORE) is None
    assert evaluation(alice, standards["lisbon"], WEEK_BEFORE).id == before.id


def test_a_new_team_standard_judges_from_the_move_on_when_evaluated_after_it(
    alice, lisbon, sao_paulo, dave, source, standards, django_capture_on_commit_callbacks
):
    fact(alice, source, at(WEEK_BEFORE + timedelta(days=1), 12), csat=5)
    fact(alice, source, at(WEEK_AFTER + timedelta(days=1), 12), csat=5)
    move(alice, sao_paulo, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)

    evaluate_periods(since=WEEK_BEFORE, until=WEEK_AFTER + timedelta(days=6))

    assert evaluation(alice, standards["lisbon"], WEEK_BEFORE) is not None
    assert evaluation(alice, standards["lisbon"], WEEK_AFTER) is None
    assert evaluation(alice, standards["sao_paulo"], WEEK_BEFORE) is None
    assert evaluation(alice, standards["sao_paulo"], WEEK_AFTER) is not None


def test_facts_near_midnight_fall_on_the_local_day_of_the_team_of_their_time(
    alice, sao_paulo, dave, source, standards, django_capture_on_commit_callbacks
):
    """Lisbon is UTC+0 in winter and UTC+1 in summer, Sao Paulo UTC-3: 01:30 UTC is the
    same day in Lisbon and the evening before in Sao Paulo."""
    before_day = WEEK_BEFORE + timedelta(days=2)
    after_day = WEEK_AFTER + timedelta(days=2)
    fact(alice, source, at(before_day, 1, 30))
    fact(alice, source, at(after_day, 1, 30))
    move(alice, sao_paulo, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)
    evaluate_periods(since=WEEK_BEFORE, until=WEEK_AFTER + timedelta(days=6))

    daily = standards["daily"]
    samples = {
        day: evaluation(alice, daily, day).sample_size
        for day in (before_day - timedelta(days=1), before_day, after_day - timedelta(days=1))
    }
    assert samples == {
        before_day - timedelta(days=1): 0,
        before_day: 1,  # in Lisbon then
        after_day - timedelta(days=1): 1,  # in Sao Paulo by then: the evening before
    }
    assert evaluation(alice, daily, after_day).sample_size == 0

    # The facts behind each number, and the day a feed's touch is dated, agree.
    behind = evaluation(alice, daily, after_day - timedelta(days=1))
    assert [f.started_at for f in evaluation_interactions(behind)] == [at(after_day, 1, 30)]
    assert list(evaluation_interactions(evaluation(alice, daily, after_day))) == []
    directory = AgentDirectory.for_source(source)
    assert directory.local_date(alice.id, at(before_day, 1, 30)) == before_day
    assert directory.local_date(alice.id, at(after_day, 1, 30)) == after_day - timedelta(days=1)


@pytest.mark.parametrize("moves", [1, 3])
def test_agents_who_never_moved_keep_their_zone_beside_moved_ones(
    alice,
    paulo,
    maria,
    sao_paulo,
    lisbon,
    dave,
    source,
    standards,
    moves,
    django_capture_on_commit_callbacks,
):
    """Several moves of one agent, and agents who never moved in both zones, in one run."""
    fact(maria, source, at(WEEK_AFTER + timedelta(days=2), 1, 30))
    fact(paulo, source, at(WEEK_AFTER + timedelta(days=2), 1, 30))
    fact(alice, source, at(WEEK_AFTER + timedelta(days=2), 1, 30))
    move(alice, sao_paulo, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)
    if moves == 3:
        move(
            alice, lisbon, MOVE_MONDAY + timedelta(days=2), dave, django_capture_on_commit_callbacks
        )
    evaluate_periods(since=WEEK_AFTER, until=WEEK_AFTER + timedelta(days=6))

    def counted_on(agent) -> list[date]:
        return sorted(
            e.period_start
            for e in Evaluation.objects.filter(agent=agent, standard=standards["daily"])
            if e.sample_size
        )

    day = WEEK_AFTER + timedelta(days=2)
    assert counted_on(maria) == [day]
    assert counted_on(paulo) == [day - timedelta(days=1)]
    assert counted_on(alice) == [day if moves == 3 else day - timedelta(days=1)]


# --- agents created anywhere get their first membership ------------------------------------


def test_an_agent_created_by_a_feed_gets_its_first_membership(lisbon):
    feed = FeedSource.objects.create(
        name="Auto", slug="auto", create_unknown_agents=True, default_team=lisbon
    )

    agent = agent_create_from_feed(source=feed, key="newcomer")

    assert list(agent.memberships.values_list("team", "starts_on", "ends_on")) == [
        (lisbon.id, MEMBERSHIP_ORIGIN, None)
    ]


def test_the_migration_opens_one_membership_per_agent_in_its_current_team(lisbon, sao_paulo):
    migration = importlib.import_module("performance.migrations.0011_team_membership")
    old = [
        AgentFactory(team=lisbon, membership=False),
        AgentFactory(team=sao_paulo, membership=False),
    ]
    already = AgentFactory(team=lisbon)

    migration.open_current_memberships(apps, None)
    migration.open_current_memberships(apps, None)

    for agent in old:
        assert list(agent.memberships.values_list("team", "starts_on", "ends_on")) == [
            (agent.team_id, date(2000, 1, 1), None)
        ]
    assert already.memberships.count() == 1


# --- pages ---------------------------------------------------------------------------------


@pytest.fixture
def moved_alice(
    alice, paulo, bob, carol, dave, source, standards, django_capture_on_commit_callbacks
):
    """alice was in Lisbon (bob's) the week before the move, in Sao Paulo (carol's) since."""
    for agent in (alice, paulo):
        fact(agent, source, at(WEEK_BEFORE + timedelta(days=1), 12), csat=5)
        fact(agent, source, at(WEEK_AFTER + timedelta(days=1), 12), csat=5)
    move(alice, paulo.team, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)
    evaluate_periods(since=WEEK_BEFORE, until=WEEK_AFTER + timedelta(days=6))
    return alice


def heatmap_of(client, person, monday: date):
    login(client, person)
    return client.get(f"{HEATMAP}?kind=week&period={week_key(monday)}")


def row_of(html: str, agent: Agent) -> str | None:
    table = html.split('data-testid="heatmap"')[1].split("</table>")[0]
    for row in re.findall(r"<tr[^>]*>.*?</tr>", table, flags=re.S):
        if f">{agent.display_name}<" in row:
            return row
    return None


def scorecard_link(agent: Agent) -> str:
    return reverse("agent-scorecard", args=[agent.id])


def test_old_lead_sees_the_past_member_marked_moved_without_a_link(client, moved_alice, bob):
    html = heatmap_of(client, bob, WEEK_BEFORE).content.decode()

    row = row_of(html, moved_alice)
    assert row is not None
    assert re.search(r'data-testid="moved">moved to Sao Paulo on ', row)
    assert scorecard_link(moved_alice) not in row
    assert 'class="heat heat-met"' in row  # her result of then, judged in Lisbon

    after = heatmap_of(client, bob, WEEK_AFTER)
    assert moved_alice.display_name not in after.content.decode()
    # And her scorecard is not the old lead's any more.
    assert client.get(scorecard_link(moved_alice)).status_code == 404


def test_new_lead_sees_the_agent_from_the_move_on_and_her_whole_history(
    client, moved_alice, carol, standards
):
    before = heatmap_of(client, carol, WEEK_BEFORE).content.decode()
    assert row_of(before, moved_alice) is None

    after = heatmap_of(client, carol, WEEK_AFTER).content.decode()
    row = row_of(after, moved_alice)
    assert row is not None and 'data-testid="moved"' not in row
    assert scorecard_link(moved_alice) in row

    # The scorecard of the week before shows what she was judged by then: Lisbon's standard.
    response = client.get(f"{scorecard_link(moved_alice)}?date={WEEK_BEFORE}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lisbon CSAT" in html and "Sao Paulo volume" not in html
    now = client.get(f"{scorecard_link(moved_alice)}?date={WEEK_AFTER}").content.decode()
    assert "Sao Paulo volume" in now and "Lisbon CSAT" not in now


def test_admin_sees_the_past_member_in_the_old_team_with_a_link(client, moved_alice, dave):
    html = heatmap_of(client, dave, WEEK_BEFORE).content.decode()

    row = row_of(html, moved_alice)
    assert 'data-testid="moved"' in row
    assert scorecard_link(moved_alice) in row
    table = html.split('data-testid="heatmap"')[1]
    lisbon_group = table.split('class="heat-team"')[1]
    assert lisbon_group.lstrip(">").startswith("<th") and "Lisbon" in lisbon_group.split("</tr>")[0]
    assert moved_alice.display_name in lisbon_group.split('class="heat-team"')[0]


def test_agents_and_anonymous_get_no_heatmap_of_any_period(client, moved_alice, paulo):
    assert client.get(f"{HEATMAP}?period={week_key(WEEK_BEFORE)}").status_code == 302
    for agent in (moved_alice, paulo):
        assert heatmap_of(client, agent, WEEK_BEFORE).status_code == 403


def test_heatmap_with_moved_agents_makes_the_same_queries_whatever_their_number(
    client,
    lisbon,
    sao_paulo,
    bob,
    dave,
    source,
    standards,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    def add_movers(count: int) -> None:
        for _ in range(count):
            agent = AgentFactory(team=lisbon)
            fact(agent, source, at(WEEK_BEFORE + timedelta(days=1), 12), csat=5)
            move(agent, sao_paulo, MOVE_MONDAY, dave, django_capture_on_commit_callbacks)

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    login(client, bob)
    url = f"{HEATMAP}?kind=week&period={week_key(WEEK_BEFORE)}"

    add_movers(1)
    evaluate_periods(since=WEEK_BEFORE, until=WEEK_BEFORE + timedelta(days=6))
    few = count_queries()
    add_movers(4)
    evaluate_periods(since=WEEK_BEFORE, until=WEEK_BEFORE + timedelta(days=6))
    assert count_queries() == few
    # Ten without movers (test_query_counts), plus the teams they moved to and which of
    # them the viewer may open.
    with django_assert_num_queries(12):
        client.get(url)


# --- the admin move -----------------------------------------------------------------------


def change_url(agent: Agent) -> str:
    return reverse("admin:performance_agent_change", args=[agent.id])


def change_form(agent: Agent, **fields) -> dict:
    memberships = list(agent.memberships.order_by("-starts_on"))
    data = {
        "user": agent.user_id,
        "team": agent.team_id,
        "active": "on",
        "moved_on": "",
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": len(memberships),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
        "external_ids-TOTAL_FORMS": 0,
        "external_ids-INITIAL_FORMS": 0,
        "external_ids-MIN_NUM_FORMS": 0,
        "external_ids-MAX_NUM_FORMS": 1000,
    }
    for index, membership in enumerate(memberships):
        data[f"memberships-{index}-id"] = membership.id
        data[f"memberships-{index}-agent"] = agent.id
    return {**data, **fields}


@pytest.fixture
def maria_plain(lisbon):
    """An agent without external ids, so the change form has one inline to fill."""
    from tests.scenarios import agent_in

    return agent_in(lisbon, "maria.plain")


def test_admin_moves_an_agent_by_changing_the_team_with_its_day(
    client, maria_plain, sao_paulo, lisbon, dave, django_capture_on_commit_callbacks
):
    login(client, dave)
    page = client.get(change_url(maria_plain)).content.decode()
    assert 'name="moved_on"' in page and "Team memberships" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            change_url(maria_plain),
            change_form(maria_plain, team=sao_paulo.id, moved_on=MOVE_MONDAY.isoformat()),
            follow=True,
        )

    assert response.status_code == 200
    assert "moved to team Sao Paulo" in response.content.decode()
    maria_plain.refresh_from_db()
    assert maria_plain.team == sao_paulo
    assert list(maria_plain.memberships.values_list("team", "ends_on", "created_by")) == [
        (lisbon.id, MOVE_MONDAY, None),
        (sao_paulo.id, None, dave.id),
    ]


@pytest.mark.parametrize(
    ("moved_on", "message"),
    [
        ("", "Say from which day the agent is in team Sao Paulo."),
        ((TODAY + timedelta(days=3)).isoformat(), "cannot be dated after today"),
    ],
)
def test_admin_move_without_a_valid_day_is_refused_on_the_form(
    client, maria_plain, sao_paulo, dave, moved_on, message
):
    login(client, dave)

    response = client.post(
        change_url(maria_plain), change_form(maria_plain, team=sao_paulo.id, moved_on=moved_on)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    maria_plain.refresh_from_db()
    assert maria_plain.team.name == "Lisbon" and maria_plain.memberships.count() == 1


def test_admin_adding_an_agent_opens_its_first_membership(client, lisbon, dave):
    from tests.factories import UserFactory

    user = UserFactory(username="newbie")
    login(client, dave)

    response = client.post(
        reverse("admin:performance_agent_add"),
        {
            "user": user.id,
            "team": lisbon.id,
            "active": "on",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "external_ids-TOTAL_FORMS": 0,
            "external_ids-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302
    agent = Agent.objects.get(user=user)
    assert list(agent.memberships.values_list("team", "starts_on", "created_by")) == [
        (lisbon.id, MEMBERSHIP_ORIGIN, dave.id)
    ]


@pytest.mark.parametrize("persona", ["alice", "bob", "carol", None])
def test_only_admins_reach_the_admin_move(client, request, maria_plain, sao_paulo, persona):
    if persona:
        login(client, request.getfixturevalue(persona))

    response = client.post(
        change_url(maria_plain),
        change_form(maria_plain, team=sao_paulo.id, moved_on=MOVE_MONDAY.isoformat()),
    )

    assert response.status_code == 302
    assert reverse("admin:login") in response.url
    maria_plain.refresh_from_db()
    assert maria_plain.team.name == "Lisbon" and maria_plain.memberships.count() == 1
