"""Bulk inserts (COPY on PostgreSQL, the ORM or executemany elsewhere) write what the ORM
would: every column, pks set on the instances, auto_now_add stamped."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from performance.bulk import instances_insert, rows_insert, statistics_refresh
from performance.models import Agent, Team

pytestmark = pytest.mark.django_db


def test_instances_get_their_ids_and_stamps_and_read_back_the_same():
    team = Team.objects.create(name="Recife", time_zone="America/Recife")
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bulk{n}") for n in range(3)]
    )
    agents = [Agent(user=user, team=team, active=n != 1) for n, user in enumerate(users)]
    instances_insert(Agent, agents)
    assert all(agent.pk for agent in agents) and len({agent.pk for agent in agents}) == 3
    stored = {agent.pk: agent for agent in Agent.objects.filter(team=team)}
    for agent in agents:
        assert stored[agent.pk].user_id == agent.user_id
        assert stored[agent.pk].active == agent.active
        assert stored[agent.pk].created_at is not None
    assert not agents[0]._state.adding
    instances_insert(Agent, [])  # nothing to write, no query fails


def test_rows_go_in_by_their_column_names():
    rows_insert(Team, ("name", "time_zone"), [("Lisboa", "Europe/Lisbon"), ("Porto", "UTC")])
    assert dict(Team.objects.values_list("name", "time_zone")) == {
        "Lisboa": "Europe/Lisbon",
        "Porto": "UTC",
    }


def _believed_rows(model) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
def test_statistics_follow_a_bulk_write_that_doubles_the_table_and_not_a_small_one():
    rows = [(f"Team {n}", "UTC") for n in range(6_000)]
    rows_insert(Team, ("name", "time_zone"), rows)
    assert statistics_refresh(Team, len(rows)) is True
    assert _believed_rows(Team) >= 6_000
    rows_insert(Team, ("name", "time_zone"), [(f"More {n}", "UTC") for n in range(2_000)])
    # 2,000 more rows are a third of what the statistics hold: autovacuum's business.
    assert statistics_refresh(Team, 2_000) is False
    assert _believed_rows(Team) < 8_000


def test_statistics_are_left_alone_below_the_minimum_and_off_postgresql():
    assert statistics_refresh(Team, 10) is False
    if connection.vendor != "postgresql":
        assert statistics_refresh(Team, 1_000_000) is False
