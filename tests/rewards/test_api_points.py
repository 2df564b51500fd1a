"""The points API per role, and its place in the schema."""

from __future__ import annotations

from datetime import date

import pytest

from rewards.services.reconcile import reconcile
from tests.factories import make_standard
from tests.rewards.helpers import judge
from tests.scenarios import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_points(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    judge(alice, csat, date(2026, 10, 26), "met")
    reconcile()
    return alice


def urls(agent) -> list[str]:
    return [
        f"/api/v1/rewards/agents/{agent.pk}/balance",
        f"/api/v1/rewards/agents/{agent.pk}/points",
    ]


def test_anonymous_gets_no_points(client, alice_points):
    for url in urls(alice_points):
        assert client.get(url).status_code == 403


def test_an_agent_reads_their_own_points_only(client, alice_points, maria):
    login(client, alice_points)
    balance, history = (client.get(url) for url in urls(alice_points))
    assert balance.json()["lifetime"] == 10
    (entry,) = history.json()["results"]
    assert (entry["points"], entry["kind"]) == (10, "standard")
    for url in urls(maria):
        assert client.get(url).status_code == 404


def test_a_lead_reads_the_agents_they_lead_only(client, alice_points, paulo, bob):
    login(client, bob)
    assert all(client.get(url).status_code == 200 for url in urls(alice_points))
    assert all(client.get(url).status_code == 404 for url in urls(paulo))


def test_an_admin_reads_everyone(client, alice_points, paulo, dave):
    login(client, dave)
    assert all(client.get(url).status_code == 200 for url in urls(alice_points) + urls(paulo))


def test_the_points_endpoints_are_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/rewards/agents/{agent_id}/balance" in schema["paths"]
    assert "/api/v1/rewards/agents/{agent_id}/points" in schema["paths"]
