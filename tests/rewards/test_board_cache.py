"""Leaderboards served from Redis sorted sets give the same boards as the database (the
source of truth), follow every committed write, and are rebuilt when in doubt."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewards import board_cache
from rewards.models import Leaderboard
from rewards.selectors import leaderboard_for, total_mismatches
from rewards.services.reconcile import reconcile
from rewards.services.totals import totals_rebuild
from rewards.windows import Span, window_containing
from tests.factories import make_standard
from tests.rewards.helpers import NOV, award, board, judge
from tests.scenarios import agent_in

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture
def sorted_sets(settings):
    if not redis_reachable():
        pytest.skip("needs Redis at 127.0.0.1:6379")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    settings.LEADERBOARD_REDIS_URL = REDIS_URL
    board_cache._client.cache_clear()
    yield client
    client.flushdb()
    board_cache._client.cache_clear()


def both_ways(settings, *args, **kwargs):
    """The same board read from the database and from Redis."""
    url = settings.LEADERBOARD_REDIS_URL
    settings.LEADERBOARD_REDIS_URL = ""
    from_database = leaderboard_for(*args, **kwargs)
    settings.LEADERBOARD_REDIS_URL = url
    return from_database, leaderboard_for(*args, **kwargs)


MONTH = window_containing(NOV, Span.MONTH)


@pytest.mark.parametrize("page", [1, 2, 3, 9])
@pytest.mark.parametrize("viewer", [0, 2, 5])
def test_a_board_from_redis_equals_the_database_one(
    sorted_sets, settings, crowd, bob, page, viewer
):
    geral = board(slug="geral", top_n=2)
    for who in (crowd[viewer].user, bob):
        from_database, from_redis = both_ways(settings, geral, MONTH, viewer=who, page=page)
        assert from_redis == from_database
    assert sorted_sets.exists(board_cache.set_key("month", MONTH.start, "", None))


def test_an_agent_without_points_sees_their_neighbours_the_same_way(
    sorted_sets, settings, crowd, lisbon
):
    newcomer = agent_in(lisbon, "gil")
    award(crowd[5], -30)  # a negative total ranks below nothing
    from_database, from_redis = both_ways(
        settings, board(slug="geral", top_n=2), MONTH, viewer=newcomer.user
    )
    assert from_redis == from_database and from_redis.own.rank == 6


def test_team_boards_have_a_set_per_team(sorted_sets, settings, crowd, paulo, sao_paulo):
    award(paulo, 99)
    team_board = board(slug="equipe", scope=Leaderboard.Scope.TEAM)
    from_database, from_redis = both_ways(
        settings, team_board, MONTH, viewer=paulo.user, team=sao_paulo
    )
    assert from_redis == from_database and [row.points for row in from_redis.rows] == [99]


def test_a_committed_write_moves_the_set_without_a_rebuild(
    sorted_sets, settings, crowd, django_capture_on_commit_callbacks
):
    geral = board(slug="geral")
    leaderboard_for(geral, MONTH, viewer=crowd[5].user)  # builds the set
    key = board_cache.set_key("month", MONTH.start, "", None)
    with django_capture_on_commit_callbacks(execute=True):
        award(crowd[5], 100)
    assert sorted_sets.zscore(key, board_cache.member(crowd[5].pk)) == 110
    view = leaderboard_for(geral, MONTH, viewer=crowd[5].user)
    assert view.rows[0].agent_id == crowd[5].pk and view.rows[0].points == 110
    with django_capture_on_commit_callbacks(execute=True):
        award(crowd[5], -110)
    assert sorted_sets.zscore(key, board_cache.member(crowd[5].pk)) is None  # back to nothing


def test_points_reconciliation_appends_in_sql_move_the_set_too(
    sorted_sets, settings, crowd, django_capture_on_commit_callbacks
):
    phone = make_standard(name="TMA", metric="aht", channel="phone", period="week", target=300)
    geral = board(slug="geral")
    leaderboard_for(geral, MONTH, viewer=crowd[5].user)  # builds the set
    key = board_cache.set_key("month", MONTH.start, "", None)
    judge(crowd[5], phone, NOV, "exceeded")
    with django_capture_on_commit_callbacks(execute=True):
        reconcile()
    assert sorted_sets.zscore(key, board_cache.member(crowd[5].pk)) == 10 + 20
    assert total_mismatches() == []


def test_names_come_from_the_cache_for_a_minute(sorted_sets, settings, crowd):
    from django.core.cache import cache

    geral = board(slug="geral")
    leader = leaderboard_for(geral, MONTH, viewer=crowd[5].user).rows[0]
    agent = next(agent for agent in crowd if agent.pk == leader.agent_id)
    user = agent.user
    user.first_name, user.last_name = "Renamed", "Agent"
    user.save()
    # Within LABEL_SECONDS every viewer reads the name kept in the cache...
    assert leaderboard_for(geral, MONTH, viewer=crowd[5].user).rows[0].name == leader.name
    cache.clear()  # ...and once it expires, the new one.
    assert leaderboard_for(geral, MONTH, viewer=crowd[5].user).rows[0].name == "Renamed Agent"


def test_a_write_during_a_build_throws_the_build_away(sorted_sets, settings, crowd):
    key = board_cache.set_key("month", MONTH.start, "", None)
    generation = board_cache.generation_key("month", MONTH.start, "")

    def load_while_someone_writes():
        sorted_sets.incr(generation)
        return [(crowd[0].pk, 50)]

    board_cache._ensure(key, generation, load_while_someone_writes)
    assert not sorted_sets.exists(key)
    board_cache._ensure(key, generation, lambda: [(crowd[0].pk, 50)])
    assert sorted_sets.exists(key)


def test_rebuilding_the_totals_drops_the_sets(
    sorted_sets, settings, crowd, django_capture_on_commit_callbacks
):
    leaderboard_for(board(slug="geral"), MONTH, viewer=crowd[0].user)
    with django_capture_on_commit_callbacks(execute=True):
        totals_rebuild()
    assert list(sorted_sets.scan_iter(f"{board_cache.PREFIX}:*")) == []


_names = itertools.count()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    points=st.lists(st.integers(-20, 60), min_size=1, max_size=9),
    viewer=st.integers(0, 8),
    page=st.integers(1, 4),
    top=st.integers(1, 4),
)
def test_any_totals_rank_the_same_in_redis_and_the_database(
    sorted_sets, settings, lisbon, points, viewer, page, top
):
    """Examples share the test's transaction: each gets a window of its own."""
    example = next(_names)
    day = NOV.replace(year=2026 - example)  # a November of its own
    agents = [agent_in(lisbon, f"h{example}-{n}") for n in range(len(points))]
    for agent, total in zip(agents, points, strict=True):
        if total:
            award(agent, total, earned_on=day)
    geral = Leaderboard.objects.filter(slug="geral").first() or board(slug="geral")
    geral.top_n = top
    window = window_containing(day, Span.MONTH)
    who = agents[viewer % len(agents)].user
    from_database, from_redis = both_ways(settings, geral, window, viewer=who, page=page)
    assert from_redis == from_database
