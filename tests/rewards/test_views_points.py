"""The points pages, per role: an agent sees their own, a lead the agents they lead (and
adjusts their points), an admin everyone."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from performance.models import Evaluation
from rewards.models import AgentBalance, PointsEntry
from rewards.services.reconcile import reconcile
from tests.factories import make_standard
from tests.rewards.helpers import judge
from tests.scenarios import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_points(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    judge(alice, csat, date(2026, 10, 26), "exceeded")
    reconcile()
    return alice


def test_anonymous_is_sent_to_log_in(client, alice):
    for url in (reverse("rewards:my-points"), reverse("rewards:agent-points", args=[alice.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_agent_sees_their_points_and_their_history(client, alice_points):
    login(client, alice_points)
    response = client.get(reverse("rewards:my-points"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="lifetime">20<' in body
    evaluation = Evaluation.objects.get(agent=alice_points)
    assert "CSAT" in body and reverse("evaluation-interactions", args=[evaluation.pk]) in body
    assert 'data-testid="adjust"' not in body


def test_an_agent_opens_no_one_elses_points_and_cannot_adjust(client, alice_points, maria):
    login(client, maria)
    assert client.get(reverse("rewards:agent-points", args=[alice_points.pk])).status_code == 404
    response = client.post(
        reverse("rewards:agent-points", args=[maria.pk]), {"points": 100, "note": "me"}
    )
    assert response.status_code == 404
    assert not PointsEntry.objects.filter(agent=maria).exists()


def test_a_lead_without_an_agent_has_no_points_of_their_own(client, bob):
    login(client, bob)
    assert client.get(reverse("rewards:my-points")).status_code == 404


def test_a_lead_adjusts_the_points_of_an_agent_they_lead(client, alice_points, bob):
    login(client, bob)
    url = reverse("rewards:agent-points", args=[alice_points.pk])
    assert 'data-testid="adjust"' in client.get(url).content.decode()
    response = client.post(url, {"points": -5, "note": "Survey from a colleague"})
    assert response.status_code == 302
    assert AgentBalance.objects.get(agent=alice_points).lifetime == 15
    entry = PointsEntry.objects.get(kind="manual_adjustment")
    assert (entry.created_by, entry.note) == (bob, "Survey from a colleague")


def test_a_bad_adjustment_is_refused_field_by_field(client, alice_points, bob):
    login(client, bob)
    url = reverse("rewards:agent-points", args=[alice_points.pk])
    for data, field in (
        ({"points": 5, "note": ""}, "note"),
        ({"points": "lots", "note": "x"}, "points"),
        ({"points": 0, "note": "x"}, "points"),
        ({"points": 10**9, "note": "x"}, "points"),
    ):
        response = client.post(url, data)
        assert response.status_code == 200
        assert field in response.context["form"].errors
    assert not PointsEntry.objects.filter(kind="manual_adjustment").exists()


def test_a_lead_opens_no_agent_of_another_team(client, alice_points, carol):
    login(client, carol)
    url = reverse("rewards:agent-points", args=[alice_points.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"points": 5, "note": "x"}).status_code == 404
    assert not PointsEntry.objects.filter(kind="manual_adjustment").exists()


def test_an_admin_sees_and_adjusts_anyone(client, alice_points, paulo, dave):
    login(client, dave)
    assert client.get(reverse("rewards:agent-points", args=[paulo.pk])).status_code == 200
    response = client.post(
        reverse("rewards:agent-points", args=[alice_points.pk]), {"points": 7, "note": "Bonus"}
    )
    assert response.status_code == 302
    assert AgentBalance.objects.get(agent=alice_points).lifetime == 27


def test_the_ledger_is_read_only_in_admin(client, alice_points, dave):
    login(client, dave)
    entry = PointsEntry.objects.first()
    assert client.get(reverse("admin:rewards_pointsentry_changelist")).status_code == 200
    assert client.get(reverse("admin:rewards_pointsentry_add")).status_code == 403
    response = client.post(
        reverse("admin:rewards_pointsentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert PointsEntry.objects.filter(pk=entry.pk).exists()


def test_a_lead_sees_the_balances_of_the_agents_they_lead(client, alice_points, maria, paulo, bob):
    login(client, bob)
    response = client.get(reverse("rewards:team-points"))
    assert response.status_code == 200
    agents = list(response.context["page"].object_list)
    assert agents == [alice_points, maria]  # highest first; paulo is carol's
    assert (agents[0].lifetime, agents[1].lifetime) == (20, 0)


def test_an_admin_sees_every_balance_and_an_agent_none(client, alice_points, paulo, dave):
    login(client, dave)
    agents = client.get(reverse("rewards:team-points")).context["page"].object_list
    assert set(agents) == {alice_points, paulo}
    login(client, alice_points)
    assert client.get(reverse("rewards:team-points")).status_code == 404


def test_the_page_shows_the_level_progress_and_streaks(client, alice_points):
    from rewards.models import Level

    Level.objects.create(name="Bronze", threshold=10)
    Level.objects.create(name="Prata", threshold=100)
    reconcile()
    login(client, alice_points)
    response = client.get(reverse("rewards:my-points"))
    level = response.context["level"]
    assert (level.level.name, level.next_level.name, level.points_to_next, level.percent) == (
        "Bronze",
        "Prata",
        80,
        11,
    )
    (streak,) = response.context["streaks"]
    assert (streak.standard.name, streak.current, streak.best) == ("CSAT", 1, 1)
    assert "Level: Bronze" in response.content.decode()


def test_the_adjustments_audit_list_is_scoped_by_role(
    client, alice_points, paulo, bob, carol, dave
):
    from datetime import date as day

    from rewards.services.ledger import manual_adjustment_create

    manual_adjustment_create(
        agent=alice_points, points=5, note="Lisbon bonus", created_by=bob, earned_on=day.today()
    )
    manual_adjustment_create(
        agent=paulo, points=-2, note="Sao Paulo fix", created_by=carol, earned_on=day.today()
    )
    url = reverse("rewards:adjustments")
    for person, notes in ((bob, {"Lisbon bonus"}), (dave, {"Lisbon bonus", "Sao Paulo fix"})):
        login(client, person)
        page = client.get(url).context["page"]
        assert {entry.note for entry in page.object_list} == notes
    login(client, alice_points)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
