from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from performance.access import sources_for_upload
from performance.demo import DEMO_LOGINS
from performance.models import (
    Agent,
    AgentExternalId,
    FeedBatch,
    FeedRowError,
    FeedSource,
    Interaction,
    Team,
)
from performance.roles import ADMIN_GROUP, AGENT_GROUP, TEAM_LEAD_GROUP
from tests.factories import TeamFactory

DAYS = 6
AGENTS = 6

pytestmark = pytest.mark.django_db


def seed_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--days", str(DAYS), "--agents", str(AGENTS), *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "teams": Team.objects.count(),
        "agents": Agent.objects.count(),
        "external_ids": AgentExternalId.objects.count(),
        "sources": FeedSource.objects.count(),
        "batches": FeedBatch.objects.count(),
        "row_errors": FeedRowError.objects.count(),
        "interactions": Interaction.objects.count(),
    }


@pytest.fixture
def seeded() -> str:
    return seed_demo()


def seed_batch(name_start: str) -> FeedBatch:
    return FeedBatch.objects.get(original_name__startswith=name_start)


def test_seed_demo_creates_teams_in_three_time_zones_with_agents_and_leads(seeded):
    teams = {team.name: team for team in Team.objects.prefetch_related("leads")}

    assert {name: team.time_zone for name, team in teams.items()} == {
        "São Paulo": "America/Sao_Paulo",
        "Lisboa": "Europe/Lisbon",
        "Remoto": "UTC",
    }
    assert Agent.objects.count() == AGENTS
    for team in teams.values():
        assert team.agents.count() >= 1
        assert [lead.groups.get().name for lead in team.leads.all()] == [TEAM_LEAD_GROUP]
    assert [lead.username for lead in teams["Lisboa"].leads.all()] == ["lead"]
    for agent in Agent.objects.select_related("user"):
        assert list(agent.user.groups.values_list("name", flat=True)) == [AGENT_GROUP]
        assert agent.user.first_name and agent.user.last_name
        assert sorted(agent.external_ids.values_list("source__slug", flat=True)) == [
            "helpdesk",
            "telephony",
        ]
    agent = Agent.objects.get(user__username="agent")
    assert agent.team.name == "Lisboa"
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert list(admin.groups.values_list("name", flat=True)) == [ADMIN_GROUP]


def test_seed_demo_sets_up_two_feed_sources_with_tokens(seeded):
    helpdesk = FeedSource.objects.get(slug="helpdesk")
    telephony = FeedSource.objects.get(slug="telephony")

    assert (helpdesk.format, telephony.format) == ("csv", "jsonl")
    assert telephony.column_mapping["call_id"] == "external_id"
    assert telephony.time_zone != "UTC"
    assert helpdesk.token_hash and telephony.token_hash
    assert seeded.count("(shown once): atd_") == 2


def test_every_demo_lead_uploads_to_the_helpdesk_and_no_one_to_telephony(seeded):
    helpdesk = FeedSource.objects.get(slug="helpdesk")

    for team in Team.objects.prefetch_related("leads"):
        for lead in team.leads.all():
            assert list(sources_for_upload(lead)) == [helpdesk]
    assert set(helpdesk.upload_teams.all()) == set(Team.objects.all())


def test_the_demo_logins_work_and_are_printed(seeded, client):
    for login in DEMO_LOGINS:
        assert f"{login.username:<8} / {login.password}" in seeded
        assert client.login(username=login.username, password=login.password)
        client.logout()
    assert not client.login(username="renata.moraes", password="atendo-lead")


def test_interactions_are_loaded_through_the_ingest_service(seeded):
    batches = FeedBatch.objects.filter(via=FeedBatch.Via.SEED)
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=DAYS - 1)

    # Besides the seed's files, only the demo's QA reviews write facts (their scores).
    assert set(FeedBatch.objects.values_list("via", flat=True)) == {"seed", "review"}
    assert set(FeedBatch.objects.values_list("status", flat=True)) == {"completed"}
    assert all(batch.stored_path and batch.checksum_sha256 for batch in batches)
    assert sum(batch.created_count for batch in batches) == Interaction.objects.count()
    expected = AGENTS * DAYS * 25 + 4
    assert Interaction.objects.count() == expected
    assert set(
        Interaction.objects.filter(source__slug="telephony").values_list("channel", flat=True)
    ) == {"phone"}
    assert set(
        Interaction.objects.filter(source__slug="helpdesk").values_list("channel", flat=True)
    ) == {"email", "chat", "social"}
    first, last = (
        Interaction.objects.order_by("started_at").first(),
        Interaction.objects.order_by("started_at").last(),
    )
    assert first.started_at.date() >= start - timedelta(days=1)
    assert last.started_at.date() <= end + timedelta(days=1)
    assert Interaction.objects.filter(csat__isnull=False).exists()


def test_telephony_naive_local_times_land_in_the_agents_working_hours(seeded):
    for team in Team.objects.all():
        zone = ZoneInfo(team.time_zone)
        calls = Interaction.objects.filter(agent__team=team, source__slug="telephony")
        local_hours = {call.started_at.astimezone(zone).hour for call in calls}
        assert local_hours and min(local_hours) >= 7 and max(local_hours) <= 21, team.name


def test_the_late_survey_batch_corrects_older_facts(seeded):
    batch = seed_batch("helpdesk-late-surveys")

    assert batch.rows_read > 0
    assert (batch.updated_count, batch.created_count, batch.rejected_count) == (
        batch.rows_read,
        0,
        0,
    )
    corrected = Interaction.objects.filter(batch_id=batch.id)
    # A fact a demo QA review scored afterwards names the review's batch instead.
    reviewed = Interaction.objects.filter(qa_reviewed=True).count()
    assert batch.rows_read - reviewed <= corrected.count() <= batch.rows_read
    assert not corrected.filter(csat__isnull=True).exists()
    assert not corrected.filter(channel="").exists()
    cutoff = timezone.now() - timedelta(days=2)
    assert not corrected.filter(started_at__gte=cutoff).exists()


def test_the_manual_export_shows_a_rejected_rows_report(seeded):
    batch = seed_batch("helpdesk-manual-export")

    assert (batch.rows_read, batch.created_count, batch.rejected_count) == (10, 4, 6)
    assert batch.uploaded_by.username == "lead"
    assert sorted(batch.row_errors.values_list("field", flat=True)) == [
        "agent",
        "channel",
        "csat",
        "external_id",
        "handle_seconds",
        "started_at",
    ]
    assert all(error.raw for error in batch.row_errors.exclude(field="external_id"))


def test_seed_demo_if_empty_changes_nothing_the_second_time(seeded):
    before = counts()

    output = seed_demo("--if-empty")

    assert counts() == before
    assert "already exists" in output
    assert "admin    / atendo-admin" in output


def test_seeding_twice_duplicates_nothing(seeded):
    before = counts()

    output = seed_demo()

    assert counts() == before
    assert "8 files already ingested" in output


def test_if_empty_leaves_an_existing_organisation_alone():
    TeamFactory(name="Support")

    output = seed_demo("--if-empty")

    assert Agent.objects.count() == 0
    assert not get_user_model().objects.filter(username="admin").exists()
    assert "not set up" in output


def test_seed_demo_refuses_fewer_agents_than_teams():
    with pytest.raises(CommandError, match="at least 3"):
        call_command("seed_demo", "--agents", "2", "--days", "2", stdout=io.StringIO())


def test_the_demo_has_industry_standards_and_is_evaluated(seeded):
    from performance.models import Evaluation, ServiceStandard

    standards = {s.name: s for s in ServiceStandard.objects.all()}
    assert {s.metric for s in standards.values()} == {
        "csat",
        "fcr",
        "sla",
        "frt",
        "aht",
        "qa",
        "nps",
    }
    assert standards["Nível de serviço do chat (80 em 60 s)"].threshold_seconds == 60
    assert standards["TMA do telefone ≤ 6 min"].quality_gate == standards["CSAT semanal ≥ 80 %"]
    assert all(s.versions.count() == 1 for s in standards.values())
    outcomes = set(Evaluation.objects.values_list("outcome", flat=True))
    assert {"met", "missed"} <= outcomes
    assert "Demo ready" in seeded and "7 standards" in seeded
