"""The access helpers are the only way views reach agents and batches."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.http import Http404

from performance.access import (
    agent_for_user_or_404,
    agents_visible_to,
    batch_for_source_or_404,
    batches_visible_to,
    sources_for_upload,
    teams_written_by_batch,
)
from performance.models import Channel, FeedBatch
from performance.services.tokens import feed_source_rotate_token
from tests.factories import FeedSourceFactory, UserFactory


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


@pytest.mark.django_db
class TestWhereAPersonUploads:
    @pytest.fixture
    def sources(self, lisbon, sao_paulo):
        both = FeedSourceFactory(name="Helpdesk", slug="helpdesk")
        both.upload_teams.add(lisbon, sao_paulo)
        lisbon_only = FeedSourceFactory(name="Lisbon PBX", slug="lisbon-pbx")
        lisbon_only.upload_teams.add(lisbon)
        closed = FeedSourceFactory(name="Telephony", slug="telephony")
        retired = FeedSourceFactory(name="Retired", slug="retired", active=False)
        retired.upload_teams.add(lisbon)
        return both, lisbon_only, closed, retired

    def test_a_lead_uploads_to_the_active_sources_open_to_a_team_they_lead(
        self, sources, bob, carol, lisbon
    ):
        both, lisbon_only, _, _ = sources
        # A lead of both teams sees each source once.
        lisbon.leads.add(carol)
        assert list(sources_for_upload(bob)) == [both, lisbon_only]
        assert list(sources_for_upload(carol)) == [both, lisbon_only]

    def test_an_admin_uploads_to_every_active_source(self, sources, dave):
        both, lisbon_only, closed, _ = sources
        assert set(sources_for_upload(dave)) == {both, lisbon_only, closed}

    def test_agents_and_people_without_a_role_upload_nowhere(self, sources, alice):
        assert not sources_for_upload(alice.user).exists()
        assert not sources_for_upload(UserFactory(username="zed")).exists()


@pytest.mark.django_db
class TestTeamsWrittenByBatch:
    def batch(self, source, **fields) -> FeedBatch:
        return FeedBatch.objects.create(source=source, format="csv", **fields)

    def test_a_leads_upload_writes_the_teams_they_lead(self, source, bob, lisbon):
        assert teams_written_by_batch(self.batch(source, via="upload", uploaded_by=bob)) == {
            lisbon.id
        }

    def test_an_admins_upload_the_command_line_and_the_api_are_not_limited(self, source, dave):
        for batch in (
            self.batch(source, via="upload", uploaded_by=dave),
            self.batch(source, via="cli"),
            self.batch(source, via="api", token_hash="0" * 64),
            self.batch(source, via="seed"),
        ):
            assert teams_written_by_batch(batch) is None

    def test_an_agent_an_ex_lead_or_a_deleted_uploader_writes_nothing(
        self, source, alice, bob, lisbon
    ):
        lead_gone = self.batch(source, via="upload", uploaded_by=None)
        by_agent = self.batch(source, via="upload", uploaded_by=alice.user)
        lisbon.leads.remove(bob)
        by_ex_lead = self.batch(source, via="upload", uploaded_by=bob)
        for batch in (lead_gone, by_agent, by_ex_lead):
            assert teams_written_by_batch(batch) == frozenset()


@pytest.mark.django_db
def test_a_sources_token_reads_only_the_batches_sent_with_it(source, bob):
    other = FeedSourceFactory(name="Telephony", slug="telephony")
    feed_source_rotate_token(source=source)
    feed_source_rotate_token(source=other)
    sent = FeedBatch.objects.create(
        source=source, format="csv", via="api", token_hash=source.token_hash
    )
    uploaded = FeedBatch.objects.create(source=source, format="csv", via="upload", uploaded_by=bob)
    cli = FeedBatch.objects.create(source=source, format="csv", via="cli")

    assert batch_for_source_or_404(source, sent.id) == sent
    for source_now, batch in ((source, uploaded), (source, cli), (other, sent)):
        with pytest.raises(Http404):
            batch_for_source_or_404(source_now, batch.id)
    feed_source_rotate_token(source=source)
    with pytest.raises(Http404):
        batch_for_source_or_404(source, sent.id)
