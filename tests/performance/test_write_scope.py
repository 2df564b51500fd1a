"""Writes respect the role matrix: a lead's upload creates or changes facts of the agents of
the teams they lead only; a feed never turns an existing login into an agent; every write
path is checked per role.

bob leads Lisbon (alice, A1), carol leads Sao Paulo (paulo, P1), dave is an admin.
"""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import Agent, FeedBatch, FeedBatchTouch, FeedSource, Interaction
from performance.services.ingest import feed_batch_process, feed_batch_receive, feed_batch_requeue
from performance.services.tokens import feed_source_rotate_token
from tests.factories import FeedSourceFactory, UserFactory
from tests.performance.helpers import errors_of, ingest_text
from tests.scenarios import login

pytestmark = pytest.mark.django_db

HEADER = "external_id,agent,channel,started_at,handle_seconds,csat"
PAULOS_CALL = "P-1,P1,phone,2026-10-05T10:00:00Z,300,2"
ALICES_CALL = "A-1,A1,phone,2026-10-05T11:00:00Z,200,4"

AGENT_OUTSIDE = (
    "agent 'P1' is not in a team the uploader leads (Lisbon); a lead uploads facts of their "
    "own teams' agents only: ask that agent's lead or an admin"
)
FACT_OUTSIDE = (
    "interaction 'P-1' belongs to an agent outside the teams the uploader leads (Lisbon); it "
    "cannot be changed or reassigned from this upload: ask an admin"
)


def feed(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def upload(source: FeedSource, user, text: str) -> FeedBatch:
    """A file sent through the upload page's service by `user`, processed."""
    batch = feed_batch_receive(
        source=source,
        stream=io.BytesIO(text.encode()),
        original_name="upload.csv",
        via=FeedBatch.Via.UPLOAD,
        uploaded_by=user,
    )
    return feed_batch_process(batch_id=batch.id)


def counts(batch: FeedBatch) -> tuple[int, int, int, int]:
    return batch.created_count, batch.updated_count, batch.unchanged_count, batch.rejected_count


def fact(external_id: str) -> dict:
    return Interaction.objects.values("agent__user__username", "csat", "handle_seconds").get(
        external_id=external_id
    )


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run what a write queues after commit (processing a batch), as production does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def requeue(batch: FeedBatch, after_commit) -> FeedBatch:
    """Re-process a batch as the batch page and the admin action do."""
    with after_commit():
        assert feed_batch_requeue(batch_id=batch.id)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def world(source, alice, paulo, bob, carol, dave, lisbon, sao_paulo, tmp_path):
    """Both agents have a call, sent by the helpdesk's system (the CLI here)."""
    source.upload_teams.add(lisbon, sao_paulo)
    ingest_text(source, feed(PAULOS_CALL, ALICES_CALL), tmp_path, name="system.csv")
    return source


# --- the examples ---------------------------------------------------------------


def test_a_lead_cannot_change_the_csat_of_another_teams_agent_with_a_late_survey(world, bob):
    batch = upload(world, bob, feed("P-1,5", header="external_id,csat"))

    assert counts(batch) == (0, 0, 0, 1)
    assert errors_of(batch) == [(2, "external_id", FACT_OUTSIDE)]
    assert fact("P-1")["csat"] == 2
    assert not FeedBatchTouch.objects.filter(batch=batch).exists()  # nothing re-scored


def test_a_lead_cannot_move_another_teams_interaction_to_their_agent(world, bob):
    batch = upload(world, bob, feed("P-1,A1,phone,2026-10-05T10:00:00Z,300,5"))

    assert counts(batch) == (0, 0, 0, 1)
    assert errors_of(batch) == [(2, "external_id", FACT_OUTSIDE)]
    assert fact("P-1") == {"agent__user__username": "paulo", "csat": 2, "handle_seconds": 300}


def test_a_lead_cannot_move_their_agents_interaction_to_another_team(world, bob):
    batch = upload(world, bob, feed("A-1,P1,phone,2026-10-05T11:00:00Z,200,4"))

    assert errors_of(batch) == [(2, "agent", AGENT_OUTSIDE)]
    assert fact("A-1")["agent__user__username"] == "alice"


def test_a_lead_cannot_create_facts_for_another_teams_agent(world, bob, paulo):
    batch = upload(world, bob, feed("P-2,P1,chat,2026-10-06T10:00:00Z,100,1"))

    assert counts(batch) == (0, 0, 0, 1)
    assert errors_of(batch) == [(2, "agent", AGENT_OUTSIDE)]
    assert not Interaction.objects.filter(external_id="P-2").exists()
    assert not FeedBatchTouch.objects.filter(agent=paulo).exclude(batch__via="cli").exists()


def test_rows_of_the_leads_own_agents_are_applied_beside_the_refused_ones(world, bob):
    batch = upload(
        world,
        bob,
        feed(
            "A-1,A1,phone,2026-10-05T11:00:00Z,200,5",  # a correction: updated
            "A-2,A1,chat,2026-10-06T09:00:00Z,90,",  # new: created
            ALICES_CALL.replace(",4", ",5"),  # the same as the first row now: unchanged
            "P-1,,,,,5",  # paulo's call: refused
            "P-3,P1,chat,2026-10-06T09:00:00Z,90,",  # a new fact of paulo: refused
        ),
    )

    assert counts(batch) == (1, 1, 1, 2)
    assert batch.rows_read == 5
    assert fact("A-1")["csat"] == 5
    assert fact("P-1")["csat"] == 2
    assert [line for line, _, _ in errors_of(batch)] == [5, 6]


def test_resending_a_fact_outside_the_scope_is_refused_not_counted_unchanged(world, bob):
    batch = upload(world, bob, feed(PAULOS_CALL))

    assert counts(batch) == (0, 0, 0, 1)
    assert errors_of(batch) == [(2, "agent", AGENT_OUTSIDE)]


def test_the_lead_of_the_other_team_writes_their_own_agents_facts(world, carol):
    batch = upload(world, carol, feed("P-1,5", header="external_id,csat"))

    assert counts(batch) == (0, 1, 0, 0)
    assert fact("P-1")["csat"] == 5


@pytest.mark.parametrize("how", ["admin upload", "command line", "source token"])
def test_admins_the_command_line_and_the_sources_token_are_not_limited_to_a_team(
    world, client, dave, tmp_path, after_commit, how
):
    text = feed("P-1,5", header="external_id,csat")
    match how:
        case "admin upload":
            batch = upload(world, dave, text)
        case "command line":
            batch = ingest_text(world, text, tmp_path, name="late.csv")
        case "source token":
            token = feed_source_rotate_token(source=world)
            with after_commit():
                response = client.post(
                    reverse("api-feed-batch-upload", args=[world.slug]),
                    data=text,
                    content_type="text/csv",
                    HTTP_AUTHORIZATION=f"Token {token}",
                )
            batch = FeedBatch.objects.get(pk=response.json()["batch"])

    assert counts(batch) == (0, 1, 0, 0)
    assert fact("P-1")["csat"] == 5


# --- the scope is the uploader's, when the batch is processed ---------------------------


def test_reprocessing_keeps_the_uploaders_scope_whoever_asks(world, bob, after_commit):
    batch = upload(world, bob, feed("P-1,5", header="external_id,csat"))

    batch = requeue(batch, after_commit)

    assert (batch.runs, counts(batch)) == (2, (0, 0, 0, 1))
    assert fact("P-1")["csat"] == 2


def test_a_lead_who_no_longer_leads_the_team_no_longer_writes_its_facts(
    world, bob, lisbon, after_commit
):
    batch = upload(world, bob, feed("A-1,5", header="external_id,csat"))
    assert counts(batch) == (0, 1, 0, 0)
    lisbon.leads.remove(bob)

    batch = requeue(batch, after_commit)

    assert counts(batch) == (0, 0, 0, 1)
    assert errors_of(batch)[0][1] == "external_id"
    assert "(-)" in errors_of(batch)[0][2]


def test_an_upload_whose_uploader_is_gone_writes_nothing_when_reprocessed(world, bob, after_commit):
    batch = upload(world, bob, feed("A-1,5", header="external_id,csat"))
    bob.delete()

    batch = requeue(batch, after_commit)

    assert (batch.uploaded_by, counts(batch)) == (None, (0, 0, 0, 1))


# --- creating unknown agents --------------------------------------------------------------


@pytest.fixture
def creating(world, lisbon):
    world.create_unknown_agents = True
    world.default_team = lisbon
    world.save()
    return world


def test_a_lead_creates_unknown_agents_only_in_a_team_they_lead(creating, bob, carol):
    refused = upload(creating, carol, feed("N-1,NEW1,chat,2026-10-06T09:00:00Z,90,"))

    assert counts(refused) == (0, 0, 0, 1)
    assert errors_of(refused) == [
        (
            2,
            "agent",
            "unknown agent 'NEW1' would be created in Lisbon, the source's default team, which "
            "the uploader does not lead; ask an admin to add the agent",
        )
    ]
    assert not get_user_model().objects.filter(username__icontains="NEW1").exists()

    created = upload(creating, bob, feed("N-1,NEW1,chat,2026-10-06T09:00:00Z,90,"))

    assert counts(created) == (1, 0, 0, 0)
    assert Interaction.objects.get(external_id="N-1").agent.team.name == "Lisbon"


LOGIN_TAKEN = (
    "unknown agent {key}: a login with this username or e-mail already exists, and a feed "
    "never turns an existing login into an agent; if it is this person, link them in admin "
    "(Agents, and Agent external ids for this source)"
)


@pytest.mark.parametrize("key", ["dave", "carol", "CAROL", "gone"])
def test_a_feed_matching_by_username_never_turns_an_existing_login_into_an_agent(
    creating, dave, carol, tmp_path, key
):
    UserFactory(username="gone", is_active=False)
    creating.agent_match = FeedSource.AgentMatch.USERNAME
    creating.save()

    batch = ingest_text(
        creating,
        feed(f"N-1,{key},chat,2026-10-06T09:00:00Z,90,", f"N-2,{key},chat,2026-10-06T10:00:00Z,,"),
        tmp_path,
    )

    assert counts(batch) == (0, 0, 0, 2)
    assert errors_of(batch)[0] == (2, "agent", LOGIN_TAKEN.format(key=repr(key)))
    assert not Agent.objects.filter(user__username__iexact=key).exists()
    assert not Interaction.objects.filter(external_id__startswith="N-").exists()


@pytest.mark.parametrize("key", ["carol@example.com", "Carol@Example.COM", "dave@example.com"])
def test_a_feed_matching_by_email_never_turns_an_existing_login_into_an_agent(
    creating, dave, carol, tmp_path, key
):
    creating.agent_match = FeedSource.AgentMatch.EMAIL
    creating.save()

    batch = ingest_text(creating, feed(f"N-1,{key},chat,2026-10-06T09:00:00Z,90,"), tmp_path)

    assert errors_of(batch) == [(2, "agent", LOGIN_TAKEN.format(key=repr(key)))]
    assert not Agent.objects.filter(user__in=[carol, dave]).exists()


def test_an_e_mail_already_used_as_someones_username_is_refused_too(creating, tmp_path):
    UserFactory(username="new.person@example.com", email="")
    creating.agent_match = FeedSource.AgentMatch.EMAIL
    creating.save()

    batch = ingest_text(
        creating, feed("N-1,New.Person@example.com,chat,2026-10-06T09:00:00Z,90,"), tmp_path
    )

    assert counts(batch) == (0, 0, 0, 1)


def test_a_generated_username_never_lands_on_an_existing_login(creating, tmp_path):
    squatter = UserFactory(username="helpdesk-x9", groups=[])

    batch = ingest_text(creating, feed("N-1,X9,chat,2026-10-06T09:00:00Z,90,"), tmp_path)

    assert counts(batch) == (1, 0, 0, 0)
    agent = Interaction.objects.get(external_id="N-1").agent
    assert agent.user.username == "helpdesk-X9-2"
    assert agent.user != squatter
    assert not Agent.objects.filter(user=squatter).exists()
    assert agent.external_ids.get().external_id == "X9"


def test_a_new_person_is_still_created_with_a_login_of_their_own(creating, tmp_path):
    creating.agent_match = FeedSource.AgentMatch.EMAIL
    creating.save()

    batch = ingest_text(
        creating, feed("N-1,Nova.Pessoa@example.com,chat,2026-10-06T09:00:00Z,90,"), tmp_path
    )

    assert counts(batch) == (1, 0, 0, 0)
    user = Interaction.objects.get(external_id="N-1").agent.user
    assert (user.username, user.email, user.has_usable_password()) == (
        "nova.pessoa@example.com",
        "nova.pessoa@example.com",
        False,
    )


# --- every write path, per role -------------------------------------------------------------


def upload_page(client, source: FeedSource, text: str):
    return client.post(
        reverse("feed-upload"),
        {"source": source.pk, "file": SimpleUploadedFile("f.csv", text.encode(), "text/csv")},
    )


@pytest.fixture
def lisbon_only(world, lisbon):
    """The helpdesk open to Lisbon's leads only."""
    world.upload_teams.set([lisbon])
    return world


@pytest.mark.parametrize(
    ("persona", "status", "batches"),
    [
        ("anonymous", 302, 0),  # to the login page
        ("alice", 403, 0),
        ("bob", 302, 1),  # the lead of a team the source is open to
        ("carol", 200, 0),  # the form again: the source is not open to Sao Paulo
        ("dave", 302, 1),
    ],
)
def test_uploading_on_the_page_per_role(request, client, lisbon_only, persona, status, batches):
    if persona != "anonymous":
        login(client, request.getfixturevalue(persona))

    response = upload_page(client, lisbon_only, feed(ALICES_CALL))

    assert response.status_code == status
    assert FeedBatch.objects.exclude(via="cli").count() == batches
    if persona == "carol":
        assert b"You may not upload to this source" in response.content


@pytest.mark.parametrize(
    ("persona", "status", "runs"),
    [
        ("anonymous", 302, 1),
        ("alice", 403, 1),
        ("bob", 302, 2),  # his own upload, to a source still open to his team
        ("carol", 404, 1),  # not a batch she may see
        ("dave", 302, 2),
    ],
)
def test_reprocessing_on_the_batch_page_per_role(
    request, client, world, bob, after_commit, persona, status, runs
):
    batch = upload(world, bob, feed(ALICES_CALL))
    if persona != "anonymous":
        login(client, request.getfixturevalue(persona))

    with after_commit():
        response = client.post(reverse("feed-batch-reprocess", args=[batch.id]))

    assert response.status_code == status
    batch.refresh_from_db()
    assert batch.runs == runs


def test_a_lead_cannot_reprocess_once_the_source_is_closed_to_their_team(client, world, bob):
    batch = upload(world, bob, feed(ALICES_CALL))
    world.upload_teams.clear()
    login(client, bob)

    page = client.get(reverse("feed-batch", args=[batch.id])).content.decode()
    response = client.post(reverse("feed-batch-reprocess", args=[batch.id]))

    assert 'action="{}"'.format(reverse("feed-batch-reprocess", args=[batch.id])) not in page
    assert response.status_code == 403
    assert "You may no longer upload to the source Helpdesk" in response.content.decode()
    batch.refresh_from_db()
    assert batch.runs == 1


@pytest.mark.parametrize(("persona", "runs"), [("alice", 1), ("bob", 1), ("carol", 1), ("dave", 2)])
def test_the_admin_reprocess_action_is_for_admins_only(
    request, client, world, bob, after_commit, persona, runs
):
    batch = upload(world, bob, feed(ALICES_CALL))
    login(client, request.getfixturevalue(persona))

    with after_commit():
        client.post(
            reverse("admin:performance_feedbatch_changelist"),
            {"action": "reprocess", "_selected_action": [batch.id]},
        )

    batch.refresh_from_db()
    assert batch.runs == runs


def test_another_sources_token_neither_writes_nor_reads_this_source(client, world, bob):
    other = FeedSourceFactory(name="Telephony", slug="telephony")
    token = feed_source_rotate_token(source=other)
    batch = upload(world, bob, feed(ALICES_CALL))

    sent = client.post(
        reverse("api-feed-batch-upload", args=[world.slug]),
        data=feed("P-1,5", header="external_id,csat"),
        content_type="text/csv",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    read = client.get(
        reverse("api-batch-detail", args=[batch.id]), HTTP_AUTHORIZATION=f"Token {token}"
    )

    assert (sent.status_code, read.status_code) == (403, 404)
    assert fact("P-1")["csat"] == 2


# --- the invariant ---------------------------------------------------------------------------

COLUMNS = ["external_id", "agent", "channel", "started_at", "csat"]
rows = st.lists(
    st.one_of(
        st.builds(
            lambda key, agent, hour, csat: {
                "external_id": key,
                "agent": agent,
                "channel": "chat",
                "started_at": f"2026-10-07T{hour:02d}:00:00Z",
                "csat": csat,
            },
            st.sampled_from(["k0", "k1", "k2", "P-1", "A-1"]),
            st.sampled_from(["A1", "P1"]),
            st.integers(0, 23),
            st.sampled_from(["", "1", "5"]),
        ),
        st.builds(
            lambda key, csat: {"external_id": key, "csat": csat},
            st.sampled_from(["k0", "k1", "P-1", "A-1"]),
            st.sampled_from(["1", "3", "5"]),
        ),
    ),
    min_size=1,
    max_size=20,
)
counter = itertools.count()


def paulos_facts() -> list[tuple]:
    return sorted(
        Interaction.objects.filter(agent__user__username="paulo").values_list(
            "external_id", "channel", "started_at", "csat", "batch_id"
        )
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows)
def test_a_leads_upload_never_changes_another_teams_facts_and_every_row_is_counted(
    rows, world, bob
):
    before = paulos_facts()
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    batch = feed_batch_receive(
        source=world,
        stream=io.BytesIO(out.getvalue().encode()),
        original_name=f"f{next(counter)}.csv",
        via=FeedBatch.Via.UPLOAD,
        uploaded_by=bob,
    )

    batch = feed_batch_process(batch_id=batch.id)

    assert paulos_facts() == before
    assert sum(counts(batch)) == batch.rows_read == len(rows)
    assert not FeedBatchTouch.objects.filter(batch=batch, agent__user__username="paulo").exists()
