"""Badges in Django admin: an admin defines one, and everyone's badges follow at once (the
reconciliation runs after the save; inline on the embedded default)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from rewards.models import AgentBadge, Badge
from tests.factories import make_standard
from tests.rewards.helpers import judge

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_badge_and_agents_earn_it(
    client, dave, alice, django_capture_on_commit_callbacks
):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    judge(alice, csat, date(2026, 10, 5), "exceeded")
    client.force_login(dave)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:rewards_badge_add"),
            {
                "name": "Encantador",
                "description": "Superou a meta de CSAT",
                "icon": "heart",
                "position": 0,
                "active": "on",
                "criterion": "exceeded",
                "threshold": 1,
                "standard": csat.pk,
                "repeat": "all",
                "points": 30,
            },
        )
    assert response.status_code == 302
    assert AgentBadge.objects.get(agent=alice).badge.name == "Encantador"


def test_a_badge_without_its_standard_is_refused_with_the_field(client, dave):
    client.force_login(dave)
    response = client.post(
        reverse("admin:rewards_badge_add"),
        {
            "name": "x",
            "icon": "star",
            "position": 0,
            "criterion": "streak",
            "threshold": 3,
            "repeat": "all",
            "points": 0,
        },
    )
    assert response.status_code == 200
    assert "Choose the standard this badge is about." in response.content.decode()
    assert not Badge.objects.exists()


def test_agents_badges_are_read_only(client, dave):
    client.force_login(dave)
    assert client.get(reverse("admin:rewards_agentbadge_changelist")).status_code == 200
    assert client.get(reverse("admin:rewards_agentbadge_add")).status_code == 403


def test_every_icon_admins_choose_from_is_shipped():
    from django.contrib.staticfiles import finders

    from rewards.models import BADGE_ICONS

    assert all(finders.find(f"vendor/badges/{icon}.svg") for icon, _ in BADGE_ICONS)


@pytest.mark.parametrize(
    ("who", "code"), [("alice", 200), ("maria", 404), ("bob", 200), ("carol", 404), ("dave", 200)]
)
def test_the_badges_api_is_scoped_like_the_points(client, request, alice, maria, who, code):
    from rewards.services.reconcile import reconcile
    from tests.scenarios import login

    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    Badge.objects.create(name="Star", criterion="exceeded", standard=csat, threshold=1, points=5)
    judge(alice, csat, date(2026, 10, 5), "exceeded")
    reconcile()
    login(client, request.getfixturevalue(who))
    response = client.get(reverse("api-agent-badges", args=[alice.pk]))
    assert response.status_code == code
    if code == 200:
        (held,) = response.json()
        assert (held["name"], held["times"], held["points"]) == ("Star", 1, 5)


def test_the_badges_api_needs_a_login(client, alice):
    assert client.get(reverse("api-agent-badges", args=[alice.pk])).status_code == 403
