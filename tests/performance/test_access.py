"""The access helpers are the only way views reach agents and batches."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.http import Http404

from performance.access import agent_for_user_or_404, agents_visible_to, batches_visible_to
from performance.models import Channel, FeedBatch
from tests.factories import UserFactory


@pytest.mark.django_db
def test_groups_and_default_channels_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Agent", "Team Lead", "Admin"}
    assert set(Channel.objects.values_list("code", flat=True)) >= {
        "phone",
        "email",
        "chat",
        "social",
        "messaging",
    }


@pytest.mark.django_db
class TestAgentsVisibleTo:
    def test_an_agent_sees_only_themselves(self, alice, paulo):
        assert list(agents_visible_to(alice.user)) == [alice]

    def test_a_lead_sees_the_agents_of_the_teams_they_lead(self, alice, paulo, bob, carol):
        assert list(agents_visible_to(bob)) == [alice]
        assert list(agents_visible_to(carol)) == [paulo]

    def test_an_admin_sees_everyone(self, alice, paulo, dave):
        assert set(agents_visible_to(dave)) == {alice, paulo}

    def test_a_user_with_no_role_sees_no_one(self, alice):
        assert not agents_visible_to(UserFactory(username="zed")).exists()

    def test_agent_for_user_or_404(self, alice, paulo, bob):
        assert agent_for_user_or_404(bob, alice.id) == alice
        with pytest.raises(Http404):
            agent_for_user_or_404(bob, paulo.id)
        with pytest.raises(Http404):
            agent_for_user_or_404(alice.user, paulo.id)


@pytest.mark.django_db
def test_batches_visible_to(source, alice, bob, carol, dave):
    mine = FeedBatch.objects.create(source=source, format="csv", via="upload", uploaded_by=bob)
    theirs = FeedBatch.objects.create(source=source, format="csv", via="api")
    assert list(batches_visible_to(bob)) == [mine]
    assert not batches_visible_to(carol).exists()
    assert not batches_visible_to(alice.user).exists()
    assert set(batches_visible_to(dave)) == {mine, theirs}


@pytest.mark.django_db
def test_a_lead_who_is_also_an_agent_in_a_team_with_two_leads_sees_each_agent_once(
    alice, lisbon, bob
):
    from tests.factories import AgentFactory, make_lead

    make_lead(lisbon, username="second-lead")
    bob_as_agent = AgentFactory(user=bob, team=lisbon)
    assert sorted(agents_visible_to(bob).values_list("id", flat=True)) == sorted(
        [alice.id, bob_as_agent.id]
    )
    assert agent_for_user_or_404(bob, bob_as_agent.id) == bob_as_agent
