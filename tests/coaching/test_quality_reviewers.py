"""Who reviews which interactions (issue 10 §2, DESIGN "Roles and access"): a quality analyst
the teams assigned to them, a lead the teams they lead, an admin every team, an agent none;
nobody their own. And how a reviewer finds an interaction."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from coaching.models import QAForm
from coaching.selectors import interactions_for_review
from performance.access import interactions_reviewable_by, teams_reviewed_by
from performance.models import Channel
from performance.roles import QUALITY_ANALYST_GROUP, is_quality_analyst, is_team_lead
from tests.factories import InteractionFactory, make_quality_analyst

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(alice, maria, paulo):
    return {
        "alice": InteractionFactory(agent=alice, external_id="L-1", case_id="PROTO-2026-001"),
        "maria": InteractionFactory(agent=maria, external_id="L-2", channel="chat"),
        "paulo": InteractionFactory(agent=paulo, external_id="S-1", case_id="PROTO-2026-777"),
    }


def reviewable(user) -> set[str]:
    return set(interactions_reviewable_by(user).values_list("external_id", flat=True))


def test_the_group_exists_after_the_migrations():
    assert Group.objects.filter(name=QUALITY_ANALYST_GROUP).exists()


def test_each_role_reviews_its_own_teams_only(calls, lisbon, sao_paulo, alice, bob, carol, dave):
    monitor = make_quality_analyst(sao_paulo, username="monica")
    assert is_quality_analyst(monitor) and not is_team_lead(monitor)
    assert reviewable(monitor) == {"S-1"}
    assert list(teams_reviewed_by(monitor)) == [sao_paulo]
    assert reviewable(bob) == {"L-1", "L-2"}  # Lisbon's lead
    assert reviewable(carol) == {"S-1"}
    assert reviewable(dave) == {"L-1", "L-2", "S-1"}  # admin
    assert reviewable(alice.user) == set() and not is_quality_analyst(alice.user)
    assert list(teams_reviewed_by(alice.user)) == []


def test_an_analyst_of_several_teams_who_also_leads_one_sees_each_interaction_once(
    calls, lisbon, sao_paulo
):
    monitor = make_quality_analyst(lisbon, sao_paulo, username="monica")
    lisbon.leads.add(monitor)
    assert sorted(interactions_reviewable_by(monitor).values_list("external_id", flat=True)) == [
        "L-1",
        "L-2",
        "S-1",
    ]


def test_nobody_reviews_their_own_interactions(calls, lisbon, alice):
    from django.contrib.auth import get_user_model

    lisbon.quality_analysts.add(alice.user)
    alice.user.groups.add(Group.objects.get(name=QUALITY_ANALYST_GROUP))
    assert reviewable(get_user_model().objects.get(pk=alice.user_id)) == {"L-2"}


def test_reviewers_find_an_interaction_by_protocolo_external_id_agent_channel_and_day(
    calls, alice, maria, dave, settings
):
    QAForm.objects.create(name="Every channel")

    def found(**filters) -> list[str]:
        return list(interactions_for_review(dave, **filters).values_list("external_id", flat=True))

    assert found(reference="proto-2026-001") == ["L-1"]  # the protocolo, any case
    assert set(found(reference="PROTO-2026")) == {"L-1", "S-1"}  # by its start
    assert found(reference=" l-2 ") == ["L-2"]
    assert found(agent_id=maria.pk) == ["L-2"]
    assert found(channel="chat") == ["L-2"]
    assert found(reference="nothing") == []
    # The day is the reviewer's local day: 23:30 in São Paulo is already tomorrow in UTC.
    late = datetime(2026, 11, 9, 23, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
    calls["alice"].started_at = late
    calls["alice"].save()
    with timezone.override("America/Sao_Paulo"):
        assert found(day=date(2026, 11, 9)) == ["L-1"]
        assert found(day=date(2026, 11, 10)) == []
    with timezone.override("UTC"):
        assert found(day=date(2026, 11, 10)) == ["L-1"]


def test_only_interactions_of_a_channel_some_active_form_serves_are_offered(calls, dave):
    def found() -> set[str]:
        return set(interactions_for_review(dave).values_list("external_id", flat=True))

    assert found() == set()  # no form yet
    chat = Channel.objects.get_or_create(code="chat", defaults={"name": "Chat"})[0]
    form = QAForm.objects.create(name="Chat", channel=chat)
    assert found() == {"L-2"}
    form.active = False
    form.save()
    assert found() == set()
    QAForm.objects.create(name="Every channel")
    assert found() == {"L-1", "L-2", "S-1"}


def test_a_quality_analyst_signs_in_to_a_home_and_opens_no_agent_or_lead_page(
    client, calls, sao_paulo, paulo
):
    from django.urls import reverse

    from tests.scenarios import login

    monitor = make_quality_analyst(sao_paulo, username="monica")
    login(client, monitor)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("coaching:queue")).status_code == 404
    assert b"no-boards" in client.get(reverse("rewards:leaderboards")).content
