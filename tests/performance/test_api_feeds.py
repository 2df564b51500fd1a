"""The feed API: who may send and read batches, and what sending a file does."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from performance.models import FeedBatch, FeedSource, Interaction
from performance.services.ingest import feed_batch_process, feed_batch_receive, storage_root
from performance.services.tokens import feed_source_rotate_token
from tests.factories import PASSWORD, FeedSourceFactory
from tests.scenarios import login

CSV = (
    "external_id,agent,channel,started_at,handle_seconds,csat\n"
    "c1,A1,phone,2026-01-05T10:00:00Z,300,5\n"
    "c2,A1,chat,2026-01-05T11:00:00Z,120,\n"
    "c3,P1,email,2026-01-05T12:00:00Z,3600,2\n"
)
JSONL = (
    '{"external_id": "j1", "agent": "A1", "channel": "phone", '
    '"started_at": "2026-01-05T10:00:00Z", "handle_seconds": 200}\n'
    '{"external_id": "j2", "agent": "P1", "channel": "chat", '
    '"started_at": "2026-01-05T10:30:00Z", "csat": 4}\n'
)

pytestmark = pytest.mark.django_db


def upload_url(slug: str = "helpdesk") -> str:
    return reverse("api-feed-batch-upload", args=[slug])


def status_url(batch_id: int) -> str:
    return reverse("api-batch-detail", args=[batch_id])


def errors_url(batch_id: int) -> str:
    return reverse("api-batch-errors", args=[batch_id])


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


@pytest.fixture
def agents(alice, paulo):
    return alice, paulo


@pytest.fixture
def token(source) -> str:
    return feed_source_rotate_token(source=source)


@pytest.fixture
def other_source(db):
    return FeedSourceFactory(name="Telephony", slug="telephony")


@pytest.fixture
def other_token(other_source) -> str:
    return feed_source_rotate_token(source=other_source)


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """POST a raw body to the feed endpoint, running the after-commit task like production."""

    def send(
        body: bytes | str,
        *,
        token: str | None = None,
        content_type: str = "text/csv",
        slug: str = "helpdesk",
        query: str = "",
        **extra,
    ):
        if token is not None:
            extra.update(auth(token))
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                upload_url(slug) + query,
                data=body.encode() if isinstance(body, str) else body,
                content_type=content_type,
                **extra,
            )

    return send


def no_batches_nor_facts() -> bool:
    return not FeedBatch.objects.exists() and not Interaction.objects.exists()


class TestFeedEndpointAuthentication:
    def test_no_token_is_401_with_token_challenge(self, send, agents):
        response = send(CSV)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Token"
        assert no_batches_nor_facts()

    def test_wrong_token_is_401(self, send, agents, token):
        response = send(CSV, token="atd_not-the-right-token")
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid token."
        assert no_batches_nor_facts()

    def test_token_without_prefix_or_malformed_header_is_401(self, client, send, agents, token):
        assert send(CSV, token=token[4:]).status_code == 401
        response = client.post(
            upload_url(), data=CSV, content_type="text/csv", HTTP_AUTHORIZATION="Token"
        )
        assert response.status_code == 401
        response = client.post(
            upload_url(), data=CSV, content_type="text/csv", HTTP_AUTHORIZATION=f"Token {token} x"
        )
        assert response.status_code == 401
        assert no_batches_nor_facts()

    def test_another_sources_token_is_403(self, send, agents, token, other_token):
        response = send(CSV, token=other_token)
        assert response.status_code == 403
        assert "another feed source" in response.json()["detail"]
        assert no_batches_nor_facts()

    def test_rotated_out_token_is_401_and_the_new_one_works(self, send, source, agents, token):
        new_token = feed_source_rotate_token(source=source)
        assert send(CSV, token=token).status_code == 401
        assert no_batches_nor_facts()
        assert send(CSV, token=new_token).status_code == 202

    def test_inactive_source_is_403(self, send, source, agents, token):
        source.active = False
        source.save(update_fields=["active"])
        response = send(CSV, token=token)
        assert response.status_code == 403
        assert "inactive" in response.json()["detail"]
        assert no_batches_nor_facts()

    def test_unknown_slug_is_404(self, send, agents, token):
        assert send(CSV, token=token, slug="no-such-source").status_code == 404
        assert no_batches_nor_facts()

    @pytest.mark.parametrize("persona", ["dave", "bob", "alice"])
    def test_a_persons_session_cannot_use_the_feed_endpoint(
        self, request, client, send, agents, bob, dave, persona
    ):
        login(client, request.getfixturevalue(persona))
        response = send(CSV)
        assert response.status_code == 401
        assert no_batches_nor_facts()

    def test_basic_auth_of_an_admin_cannot_use_the_feed_endpoint(self, send, agents, dave):
        credentials = base64.b64encode(f"dave:{PASSWORD}".encode()).decode()
        response = send(CSV, HTTP_AUTHORIZATION=f"Basic {credentials}")
        assert response.status_code == 401
        assert no_batches_nor_facts()


class TestSendingAFile:
    def test_raw_csv_is_stored_as_received_and_creates_facts(self, send, source, agents, token):
        response = send(CSV, token=token, HTTP_CONTENT_DISPOSITION='attachment; filename="d.csv"')

        assert response.status_code == 202
        batch = FeedBatch.objects.get()
        body = response.json()
        assert body["batch"] == batch.id
        assert body["status_url"] == f"http://testserver{status_url(batch.id)}"
        assert response.headers["Location"] == body["status_url"]
        assert (batch.via, batch.format, batch.original_name) == ("api", "csv", "d.csv")
        assert batch.uploaded_by is None
        assert batch.token_hash == FeedSource.objects.get(pk=source.pk).token_hash != ""
        assert (storage_root() / batch.stored_path).read_bytes() == CSV.encode()
        assert batch.status == FeedBatch.Status.COMPLETED
        assert (batch.rows_read, batch.created_count, batch.rejected_count) == (3, 3, 0)
        c1 = Interaction.objects.get(source=source, external_id="c1")
        assert (c1.agent, c1.handle_seconds, c1.csat) == (agents[0], 300, 5)

    def test_jsonl_bodies(self, send, agents, token):
        for content_type in ("application/x-ndjson", "application/jsonl"):
            response = send(JSONL, token=token, content_type=content_type)
            assert response.status_code == 202
        first, second = FeedBatch.objects.order_by("id")
        assert (first.format, first.status, first.created_count) == ("jsonl", "completed", 2)
        assert (second.format, second.unchanged_count) == ("jsonl", 2)
        assert Interaction.objects.get(external_id="j2").csat == 4

    def test_multipart_upload_of_a_csv_file(self, client, agents, token, capture_on_commit):
        with capture_on_commit(execute=True):
            response = client.post(
                upload_url(),
                {"file": SimpleUploadedFile("export.csv", CSV.encode(), "text/csv")},
                **auth(token),
            )
        assert response.status_code == 202
        batch = FeedBatch.objects.get()
        assert (batch.format, batch.original_name, batch.created_count) == ("csv", "export.csv", 3)

    def test_multipart_format_comes_from_the_file_name(
        self, client, agents, token, capture_on_commit
    ):
        upload = SimpleUploadedFile("export.ndjson", JSONL.encode(), "application/octet-stream")
        with capture_on_commit(execute=True):
            response = client.post(upload_url(), {"file": upload}, **auth(token))
        assert response.status_code == 202
        batch = FeedBatch.objects.get()
        assert (batch.format, batch.status, batch.created_count) == ("jsonl", "completed", 2)

    def test_multipart_without_a_file_field_is_400(self, client, agents, token):
        response = client.post(upload_url(), {"data": "x"}, **auth(token))
        assert response.status_code == 400
        assert "file" in response.json()
        assert no_batches_nor_facts()

    def test_format_query_overrides_the_content_type(self, send, agents, token):
        response = send(JSONL, token=token, content_type="text/csv", query="?format=jsonl")
        assert response.status_code == 202
        assert FeedBatch.objects.get().format == "jsonl"
        assert Interaction.objects.count() == 2

    def test_octet_stream_is_read_in_the_sources_default_format(self, send, source, agents, token):
        source.format = "jsonl"
        source.save(update_fields=["format"])
        response = send(
            JSONL, token=token, content_type="application/octet-stream", query="?name=x"
        )
        assert response.status_code == 202
        batch = FeedBatch.objects.get()
        assert (batch.format, batch.original_name, batch.created_count) == ("jsonl", "x", 2)

    def test_the_raw_body_is_streamed_not_buffered(self, send, settings, agents, token):
        # Reading request.body would fail past DATA_UPLOAD_MAX_MEMORY_SIZE.
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
        response = send(CSV, token=token)
        assert response.status_code == 202
        assert Interaction.objects.count() == 3

    def test_content_type_parameters_are_accepted(self, send, agents, token):
        response = send(CSV, token=token, content_type="text/csv; charset=utf-8")
        assert response.status_code == 202

    @pytest.mark.parametrize(
        "content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"]
    )
    def test_unsupported_content_type_is_415_with_what_to_send(
        self, send, agents, token, content_type
    ):
        response = send(CSV, token=token, content_type=content_type)
        assert response.status_code == 415
        detail = response.json()["detail"]
        assert content_type in detail
        assert "text/csv" in detail
        assert "multipart/form-data" in detail
        assert no_batches_nor_facts()

    def test_unknown_format_query_is_400(self, send, agents, token):
        response = send(CSV, token=token, query="?format=xml")
        assert response.status_code == 400
        assert "format" in response.json()
        assert no_batches_nor_facts()

    def test_a_file_over_feed_max_bytes_is_413_and_changes_nothing(
        self, send, settings, agents, token
    ):
        settings.FEED_MAX_BYTES = 100
        assert len(CSV.encode()) > 100

        response = send(CSV, token=token)

        assert response.status_code == 413
        batch = FeedBatch.objects.get()
        assert response.json() == {
            "batch": batch.id,
            "status": "failed",
            "status_url": f"http://testserver{status_url(batch.id)}",
            "error": batch.error,
        }
        assert "FEED_MAX_BYTES" in batch.error
        assert batch.stored_path == ""
        assert not Interaction.objects.exists()
        assert not any(storage_root().rglob("*.csv"))

    def test_a_file_that_is_not_utf8_is_422_and_recorded(self, send, agents, token, source):
        source.encoding = FeedSource.Encoding.UTF8  # fixed: automatic would read Windows-1252
        source.save()
        body = "external_id,agent,channel,started_at\nc1,A1,phone,2026-01-05T10:00:00Z,São\n"
        response = send(body.encode("latin-1"), token=token)
        assert response.status_code == 422
        batch = FeedBatch.objects.get()
        assert response.json()["batch"] == batch.id
        assert response.json()["error"] == batch.error
        assert "UTF-8" in batch.error
        assert batch.status == FeedBatch.Status.FAILED
        assert not Interaction.objects.exists()

    def test_an_empty_body_is_422(self, send, agents, token):
        # Django's test client leaves an empty body's content type out unless told.
        response = send(b"", token=token, CONTENT_TYPE="text/csv")
        assert response.status_code == 422
        assert response.json()["error"] == "the file is empty"
        assert FeedBatch.objects.get().status == FeedBatch.Status.FAILED

    def test_resending_the_same_file_changes_nothing(self, send, agents, token):
        assert send(CSV, token=token).status_code == 202
        before = list(Interaction.objects.order_by("id").values())

        assert send(CSV, token=token).status_code == 202

        first, second = FeedBatch.objects.order_by("id")
        assert first.checksum_sha256 == second.checksum_sha256
        assert second.status == FeedBatch.Status.COMPLETED
        assert (second.rows_read, second.unchanged_count) == (3, 3)
        assert second.created_count == second.updated_count == second.rejected_count == 0
        assert list(Interaction.objects.order_by("id").values()) == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_eager_celery_the_response_reports_the_finished_batch(client, alice, paulo, source):
    token = feed_source_rotate_token(source=source)
    response = client.post(upload_url(), data=CSV, content_type="text/csv", **auth(token))
    assert response.status_code == 202
    assert response.json()["status"] == "completed"
    assert Interaction.objects.count() == 3


@pytest.fixture
def capture_on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def receive(source, text: str, *, by=None) -> FeedBatch:
    """A batch sent through the upload page (by a lead) or the API (with the source's
    current token), processed."""
    batch = feed_batch_receive(
        source=source,
        stream=io.BytesIO(text.encode()),
        original_name="feed.csv",
        via=FeedBatch.Via.UPLOAD if by else FeedBatch.Via.API,
        uploaded_by=by,
        token_hash="" if by else source.token_hash,
    )
    return feed_batch_process(batch_id=batch.id)


def bad_rows(count: int) -> str:
    """A CSV whose rows all name an unknown agent: one row error each."""
    rows = [f"x{i},ZZ,phone,2026-01-05T10:00:00Z" for i in range(count)]
    return "external_id,agent,channel,started_at\n" + "\n".join(rows) + "\n"


@pytest.fixture
def bobs_batch(source, agents, bob) -> FeedBatch:
    return receive(source, CSV + "c4,ZZ,phone,2026-01-05T10:00:00Z,,\n", by=bob)


class TestBatchStatus:
    def test_report_shape(self, client, source, agents, dave):
        # An admin's upload: not limited to one team's agents.
        batch = receive(source, CSV + "c4,ZZ,phone,2026-01-05T10:00:00Z,,\n", by=dave)
        login(client, dave)
        response = client.get(status_url(batch.id))

        assert response.status_code == 200
        body = response.json()
        assert {k: body[k] for k in ("batch", "source", "status", "progress_percent")} == {
            "batch": batch.id,
            "source": "helpdesk",
            "status": "completed",
            "progress_percent": 100,
        }
        assert {k: body[k] for k in ("rows", "created", "updated", "unchanged", "rejected")} == {
            "rows": 4,
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
        assert body["error"] == ""
        assert (body["format"], body["via"], body["original_name"]) == ("csv", "upload", "feed.csv")
        assert body["size_bytes"] == batch.size_bytes
        assert body["checksum_sha256"] == batch.checksum_sha256
        assert set(body["timings"]) == {
            "received_at",
            "started_at",
            "finished_at",
            "duration_seconds",
        }
        assert body["timings"]["duration_seconds"] >= 0
        assert body["errors"] == [
            {"line": 5, "field": "agent", "reason": body["errors"][0]["reason"]}
        ]
        assert "unknown agent 'ZZ'" in body["errors"][0]["reason"]
        assert body["errors_total"] == 1
        assert body["errors_url"] == f"http://testserver{errors_url(batch.id)}"
        assert body["status_url"] == f"http://testserver{status_url(batch.id)}"

    def test_a_failed_batch_reports_its_error(self, client, source, token, dave):
        batch = receive(source, "")
        login(client, dave)
        body = client.get(status_url(batch.id)).json()
        assert (body["status"], body["error"], body["progress_percent"]) == (
            "failed",
            "the file is empty",
            100,
        )

    def test_only_the_first_100_errors_with_the_total(self, client, source, agents, token):
        batch = receive(source, bad_rows(130))
        body = client.get(status_url(batch.id), **auth(token)).json()
        assert len(body["errors"]) == 100
        assert [e["line"] for e in body["errors"]] == list(range(2, 102))
        assert body["errors_total"] == 130
        assert body["rejected"] == 130

    def test_query_count_is_flat(self, client, source, agents, token, django_assert_num_queries):
        batch = receive(source, bad_rows(130))
        # token lookup, batch with its source, first errors, error count
        with django_assert_num_queries(4):
            assert client.get(status_url(batch.id), **auth(token)).status_code == 200

    @pytest.mark.parametrize(
        ("persona", "expected"),
        [("dave", 200), ("bob", 200), ("carol", 404), ("alice", 404)],
    )
    def test_people(self, request, client, bobs_batch, carol, dave, persona, expected):
        login(client, request.getfixturevalue(persona))
        assert client.get(status_url(bobs_batch.id)).status_code == expected
        assert client.get(errors_url(bobs_batch.id)).status_code == expected

    def test_a_lead_sees_only_the_batches_they_uploaded(self, client, source, agents, bob):
        api_batch = receive(source, CSV)
        login(client, bob)
        assert client.get(status_url(api_batch.id)).status_code == 404

    def test_the_sources_own_token_reads_the_batches_it_sent(self, client, source, agents, token):
        sent = receive(source, CSV)
        assert client.get(status_url(sent.id), **auth(token)).status_code == 200
        assert client.get(errors_url(sent.id), **auth(token)).status_code == 200

    def test_the_sources_token_does_not_read_a_leads_upload_or_a_cli_batch(
        self, client, source, bobs_batch, token
    ):
        cli = feed_batch_receive(
            source=source, stream=io.BytesIO(CSV.encode()), via=FeedBatch.Via.CLI
        )
        for batch in (bobs_batch, cli):
            assert client.get(status_url(batch.id), **auth(token)).status_code == 404
            assert client.get(errors_url(batch.id), **auth(token)).status_code == 404

    def test_a_rotated_in_token_does_not_read_what_the_previous_token_sent(
        self, client, source, agents, token
    ):
        sent = receive(source, CSV)
        new_token = feed_source_rotate_token(source=source)

        assert client.get(status_url(sent.id), **auth(new_token)).status_code == 404
        assert client.get(errors_url(sent.id), **auth(new_token)).status_code == 404
        assert client.get(status_url(receive(source, CSV).id), **auth(new_token)).status_code == 200

    def test_another_sources_token_sees_nothing(self, client, bobs_batch, other_token):
        assert client.get(status_url(bobs_batch.id), **auth(other_token)).status_code == 404
        assert client.get(errors_url(bobs_batch.id), **auth(other_token)).status_code == 404

    def test_a_wrong_token_is_401_even_with_a_session(self, client, bobs_batch, dave):
        login(client, dave)
        response = client.get(status_url(bobs_batch.id), **auth("atd_wrong"))
        assert response.status_code == 401

    def test_inactive_sources_token_is_403(self, client, source, bobs_batch, token):
        source.active = False
        source.save(update_fields=["active"])
        assert client.get(status_url(bobs_batch.id), **auth(token)).status_code == 403

    def test_anonymous_is_401(self, client, bobs_batch):
        for url in (status_url(bobs_batch.id), errors_url(bobs_batch.id)):
            response = client.get(url)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"] == "Token"

    def test_unknown_batch_is_404(self, client, dave):
        login(client, dave)
        assert client.get(status_url(999_999)).status_code == 404

    def test_a_token_cannot_write_through_the_status_endpoint(self, client, bobs_batch, token):
        response = client.post(status_url(bobs_batch.id), **auth(token))
        assert response.status_code == 405


class TestBatchErrors:
    def test_pages_through_every_error_in_line_order(self, client, source, agents, token):
        batch = receive(source, bad_rows(130))

        first = client.get(errors_url(batch.id), **auth(token)).json()
        assert first["count"] == 130
        assert len(first["results"]) == 100
        assert first["previous"] is None
        assert first["results"][0]["line"] == 2
        assert set(first["results"][0]) == {"line", "field", "reason"}

        second = client.get(first["next"], **auth(token)).json()
        assert [e["line"] for e in second["results"]] == list(range(102, 132))
        assert second["next"] is None

    def test_page_size_and_out_of_range_page(self, client, source, agents, token):
        batch = receive(source, bad_rows(30))
        body = client.get(errors_url(batch.id) + "?page=3&page_size=10", **auth(token)).json()
        assert [e["line"] for e in body["results"]] == list(range(22, 32))
        assert client.get(errors_url(batch.id) + "?page=9", **auth(token)).status_code == 404

    def test_a_batch_without_errors_has_an_empty_list(self, client, source, agents, token):
        batch = receive(source, CSV)
        body = client.get(errors_url(batch.id), **auth(token)).json()
        assert (body["count"], body["results"]) == (0, [])


def test_status_url_from_the_upload_answers_the_uploader(send, client, agents, token):
    response = send(CSV, token=token)
    assert client.get(response.headers["Location"], **auth(token)).json()["created"] == 3
