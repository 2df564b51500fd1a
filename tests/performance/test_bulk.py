"""Bulk inserts (COPY on PostgreSQL, the ORM or executemany elsewhere) write what the ORM
would: every column, pks set on the instances, auto_now_add stamped."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from performance.bulk import instances_insert, rows_insert
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
