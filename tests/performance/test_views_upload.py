from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from performance.models import FeedBatch, FeedSource, Interaction
from tests.factories import FeedSourceFactory
from tests.scenarios import login

pytestmark = pytest.mark.django_db

UPLOAD = reverse("feed-upload")

GOOD_AND_BAD = (
    "external_id,agent,channel,started_at,handle_seconds,csat\n"
    "T1,A1,phone,2026-10-05T10:00:00Z,300,5\n"
    "T2,A1,chat,2026-10-05T11:00:00Z,120,4\n"
    "T3,ZZ,phone,2026-10-05T12:00:00Z,100,\n"
    "T4,P1,fax,2026-10-05T12:30:00Z,100,\n"
    "T5,P1,email,2026-10-05T13:00:00Z,-5,9\n"
)


@pytest.fixture(autouse=True)
def source_open_to_both_teams(source, lisbon, sao_paulo):
    """An admin opened the helpdesk to uploads by the leads of both teams."""
    source.upload_teams.add(lisbon, sao_paulo)


def feed_file(text: str | bytes, name: str = "october.csv") -> SimpleUploadedFile:
    content = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, content, content_type="text/csv")


def upload(client, source, text: str | bytes, **extra):
    return client.post(UPLOAD, {"source": source.pk, "file": feed_file(text), **extra})


def test_anonymous_is_sent_to_login(client, source):
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.post(UPLOAD).status_code == 302


def test_agent_may_not_open_or_post_the_upload_page(client, alice, source):
    login(client, alice)
    assert client.get(UPLOAD).status_code == 403

    response = upload(client, source, GOOD_AND_BAD)

    assert response.status_code == 403
    assert not FeedBatch.objects.exists()


@pytest.mark.parametrize("persona", ["bob", "carol", "dave"])
def test_leads_and_admins_see_the_active_sources(client, request, persona, source):
    FeedSourceFactory(name="Retired PBX", slug="retired-pbx", active=False)
    login(client, request.getfixturevalue(persona))

    response = client.get(UPLOAD)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{source.pk}">Helpdesk</option>' in html
    assert "Retired PBX" not in html
    assert 'enctype="multipart/form-data"' in html


def test_uploading_good_and_bad_rows_keeps_the_good_and_reports_the_bad(
    client, bob, alice, paulo, source, django_capture_on_commit_callbacks
):
    login(client, bob)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, source, GOOD_AND_BAD)

    # processing is queued after commit, and its end queues re-scoring the touched periods
    assert [callback.func.__self__.name for callback in callbacks] == [
        "performance.process_feed_batch",
        "performance.evaluate_feed_batch",
    ]
    batch = FeedBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("feed-batch", args=[batch.id])
    assert batch.via == FeedBatch.Via.UPLOAD
    assert batch.uploaded_by == bob
    assert batch.original_name == "october.csv"
    assert batch.status == FeedBatch.Status.COMPLETED
    assert (batch.rows_read, batch.created_count, batch.rejected_count) == (5, 2, 3)
    assert sorted(Interaction.objects.values_list("external_id", "agent__user__username")) == [
        ("T1", "alice"),
        ("T2", "alice"),
    ]

    page = client.get(response.url).content.decode()
    assert "Completed" in page
    assert "unknown agent &#x27;ZZ&#x27;" in page
    assert "unknown channel &#x27;fax&#x27;" in page
    assert "is negative" in page
    assert "is outside 1-5" in page
    assert "Download rejected rows (CSV)" in page


def test_format_override_reads_a_json_lines_file_on_a_csv_source(
    client, dave, alice, source, django_capture_on_commit_callbacks
):
    login(client, dave)
    jsonl = (
        '{"external_id": "J1", "agent": "A1", "channel": "chat", '
        '"started_at": "2026-10-05T10:00:00Z", "first_response_seconds": 12}\n'
    )

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, source, jsonl, format="jsonl")

    batch = FeedBatch.objects.get()
    assert batch.format == "jsonl"
    assert batch.created_count == 1
    assert Interaction.objects.get().first_response_seconds == 12


def test_a_file_over_the_size_limit_shows_its_batch_with_the_reason(
    client, bob, source, settings, django_capture_on_commit_callbacks
):
    settings.FEED_MAX_BYTES = 50
    login(client, bob)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, source, GOOD_AND_BAD)

    assert callbacks == []
    batch = FeedBatch.objects.get()
    assert batch.status == FeedBatch.Status.FAILED
    page = client.get(response.url).content.decode()
    assert "larger than FEED_MAX_BYTES" in page
    assert "The file was not accepted" in page
    assert "Re-process" not in page
    assert not Interaction.objects.exists()


def test_a_file_that_is_not_utf8_shows_its_batch_with_the_reason(
    client, carol, source, django_capture_on_commit_callbacks
):
    source.encoding = FeedSource.Encoding.UTF8  # fixed: automatic would read Windows-1252
    source.save()
    login(client, carol)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, source, "external_id;agent\nT1;Jo\xe3o\n".encode("latin-1"))

    batch = FeedBatch.objects.get()
    assert batch.status == FeedBatch.Status.FAILED
    assert batch.uploaded_by == carol
    page = client.get(response.url).content.decode()
    assert "UTF-8" in page
    assert not Interaction.objects.exists()


def test_an_empty_file_is_received_and_fails_with_a_reason(
    client, bob, source, django_capture_on_commit_callbacks
):
    login(client, bob)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, source, b"")

    assert FeedBatch.objects.get().error == "the file is empty"
    assert "the file is empty" in client.get(response.url).content.decode()


def test_missing_file_or_inactive_source_redisplays_the_form(client, bob, source):
    retired = FeedSourceFactory(name="Retired PBX", slug="retired-pbx", active=False)
    login(client, bob)

    no_file = client.post(UPLOAD, {"source": source.pk})
    inactive = upload(client, retired, GOOD_AND_BAD)

    assert no_file.status_code == 200
    assert b"This field is required." in no_file.content
    assert inactive.status_code == 200
    assert b"You may not upload to this source: it is inactive" in inactive.content
    assert not FeedBatch.objects.exists()


def test_a_lead_sees_only_the_sources_open_to_their_team(client, carol, source, lisbon):
    source.upload_teams.set([lisbon])
    login(client, carol)

    response = client.get(UPLOAD)
    refused = upload(client, source, GOOD_AND_BAD)

    page = response.content.decode()
    assert "Helpdesk" not in page
    assert "No feed source accepts uploads from your teams yet" in page
    assert refused.status_code == 200
    assert b"You may not upload to this source" in refused.content
    assert not FeedBatch.objects.exists()


def test_a_leads_upload_writes_only_their_teams_agents(
    client, bob, alice, paulo, source, django_capture_on_commit_callbacks
):
    login(client, bob)
    rows = (
        "external_id,agent,channel,started_at,csat\n"
        "T1,A1,phone,2026-10-05T10:00:00Z,5\n"
        "T2,P1,phone,2026-10-05T11:00:00Z,1\n"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, source, rows)

    batch = FeedBatch.objects.get()
    assert (batch.created_count, batch.rejected_count) == (1, 1)
    assert list(Interaction.objects.values_list("external_id", flat=True)) == ["T1"]
    assert (
        "is not in a team the uploader leads (Lisbon)" in client.get(response.url).content.decode()
    )
