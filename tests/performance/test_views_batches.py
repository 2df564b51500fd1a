from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from performance.models import FeedBatch, Interaction
from performance.services.ingest import feed_batch_process, feed_batch_receive
from tests.factories import FeedBatchFactory, FeedRowErrorFactory, FeedSourceFactory
from tests.scenarios import login

pytestmark = pytest.mark.django_db

BATCHES = reverse("feed-batches")

GOOD_AND_BAD = (
    "external_id,agent,channel,started_at,handle_seconds,csat\n"
    "T1,A1,phone,2026-10-05T10:00:00Z,300,5\n"
    "T2,A1,chat,2026-10-05T11:00:00Z,120,4\n"
    'T3,ZZ,phone,2026-10-05T12:00:00Z,100,"caf\u00e9, late"\n'
    "T4,A1,fax,2026-10-05T12:30:00Z,100,\n"
)


def detail(batch: FeedBatch) -> str:
    return reverse("feed-batch", args=[batch.id])


def rejected_csv(batch: FeedBatch) -> str:
    return reverse("feed-batch-rejected", args=[batch.id])


def reprocess(batch: FeedBatch) -> str:
    return reverse("feed-batch-reprocess", args=[batch.id])


def received(source, user, text: str = GOOD_AND_BAD) -> FeedBatch:
    return feed_batch_receive(
        source=source,
        stream=io.BytesIO(text.encode()),
        original_name="october.csv",
        via=FeedBatch.Via.UPLOAD,
        uploaded_by=user,
    )


@pytest.fixture(autouse=True)
def source_open_to_both_teams(source, lisbon, sao_paulo):
    """An admin opened the helpdesk to uploads by the leads of both teams."""
    source.upload_teams.add(lisbon, sao_paulo)


@pytest.fixture
def bobs_batch(source, bob, alice):
    return feed_batch_process(batch_id=received(source, bob).id)


@pytest.fixture
def carols_batch(source, carol):
    return FeedBatchFactory(source=source, uploaded_by=carol, original_name="carols-feed.csv")


# --- the batch list ----------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_every_batch_page(client, bobs_batch):
    for url in (BATCHES, detail(bobs_batch), rejected_csv(bobs_batch)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert client.post(reprocess(bobs_batch)).status_code == 302


def test_agent_gets_403_on_every_batch_page(client, alice, bobs_batch):
    login(client, alice)
    for url in (BATCHES, detail(bobs_batch), rejected_csv(bobs_batch)):
        assert client.get(url).status_code == 403
    assert client.post(reprocess(bobs_batch)).status_code == 403


def test_lead_lists_only_the_batches_they_uploaded(client, bob, bobs_batch, carols_batch):
    login(client, bob)

    html = client.get(BATCHES).content.decode()

    assert "october.csv" in html
    assert "carols-feed.csv" not in html


def test_lead_of_another_team_lists_only_theirs(client, carol, bobs_batch, carols_batch):
    login(client, carol)

    html = client.get(BATCHES).content.decode()

    assert "carols-feed.csv" in html
    assert "october.csv" not in html


def test_admin_lists_every_batch_and_filters_by_source_and_status(client, dave, bob, carol, source):
    telephony = FeedSourceFactory(name="Telephony", slug="telephony")
    FeedBatchFactory(source=source, uploaded_by=bob, original_name="helpdesk-ok.csv")
    FeedBatchFactory(
        source=source, uploaded_by=carol, original_name="helpdesk-bad.csv", status="failed"
    )
    FeedBatchFactory(source=telephony, uploaded_by=None, via="api", original_name="pbx.csv")
    login(client, dave)

    everything = client.get(BATCHES).content.decode()
    by_source = client.get(BATCHES, {"source": telephony.pk}).content.decode()
    by_status = client.get(BATCHES, {"status": "failed"}).content.decode()

    assert all(name in everything for name in ("helpdesk-ok", "helpdesk-bad", "pbx.csv"))
    assert "pbx.csv" in by_source
    assert "helpdesk" not in by_source.split('id="batches"')[1]
    assert "helpdesk-bad.csv" in by_status
    assert "helpdesk-ok.csv" not in by_status
    assert "pbx.csv" not in by_status


def test_batch_list_htmx_filter_returns_only_the_table(client, bob, bobs_batch):
    login(client, bob)

    response = client.get(
        BATCHES, {"status": "completed"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="batches"
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="batches"')
    assert "<html" not in html
    assert "october.csv" in html


def test_batch_list_is_paginated(client, dave, source):
    FeedBatchFactory.create_batch(55, source=source, uploaded_by=dave)
    login(client, dave)

    first = client.get(BATCHES).content.decode()
    second = client.get(BATCHES, {"page": 2}).content.decode()

    assert first.count('<span class="badge badge-completed">') == 50
    assert second.count('<span class="badge badge-completed">') == 5
    assert "Page 2 of 2" in second


# --- one batch ---------------------------------------------------------------------------


def test_lead_reads_the_report_of_their_batch(client, bob, bobs_batch):
    login(client, bob)

    response = client.get(detail(bobs_batch))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Completed" in html
    assert "october.csv" in html
    assert bobs_batch.checksum_sha256 in html
    assert f"{bobs_batch.size_bytes}\xa0bytes" in html
    for name, value in [("rows", 4), ("created", 2), ("unchanged", 0), ("rejected", 2)]:
        assert f'data-testid="{name}">{value}<' in html
    assert "unknown agent &#x27;ZZ&#x27;" in html
    assert "unknown channel &#x27;fax&#x27;" in html
    assert "Download rejected rows (CSV)" in html
    assert f'action="{reprocess(bobs_batch)}"' in html
    assert 'hx-trigger="every' not in html  # a finished batch stops polling


def test_lead_of_another_team_gets_404_for_a_batch_not_theirs(client, carol, bobs_batch):
    login(client, carol)
    assert client.get(detail(bobs_batch)).status_code == 404
    assert client.get(rejected_csv(bobs_batch)).status_code == 404
    assert client.post(reprocess(bobs_batch)).status_code == 404


def test_admin_reads_any_batch(client, dave, bobs_batch, carols_batch):
    login(client, dave)
    assert client.get(detail(bobs_batch)).status_code == 200
    assert client.get(detail(carols_batch)).status_code == 200


def test_unknown_batch_is_404(client, dave):
    login(client, dave)
    assert client.get(reverse("feed-batch", args=[999999])).status_code == 404


def test_a_running_batch_polls_and_the_poll_that_sees_it_finish_brings_the_report(
    client, bob, alice, source
):
    batch = received(source, bob)
    login(client, bob)

    page = client.get(detail(batch)).content.decode()
    waiting = client.get(detail(batch), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="progress")
    feed_batch_process(batch_id=batch.id)
    finished = client.get(detail(batch), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="progress")

    assert 'hx-trigger="every 1s"' in page
    assert "The report appears here when processing finishes." in page
    waiting_html = waiting.content.decode()
    assert waiting_html.lstrip().startswith('<section id="progress"')
    assert "<html" not in waiting_html
    assert f'hx-get="{detail(batch)}" hx-trigger="every 1s"' in waiting_html
    assert 'data-testid="percent">0 %<' in waiting_html
    assert "report" not in waiting_html
    finished_html = finished.content.decode()
    assert "<html" not in finished_html
    assert "hx-trigger" not in finished_html
    assert 'data-testid="percent">100 %<' in finished_html
    assert 'data-testid="status">Completed<' in finished_html
    assert '<section id="report" class="card" hx-swap-oob="true">' in finished_html
    assert "unknown agent &#x27;ZZ&#x27;" in finished_html


def test_rejected_rows_are_paginated_by_100(client, bob, source):
    batch = FeedBatchFactory(source=source, uploaded_by=bob, rejected_count=150)
    FeedRowErrorFactory.create_batch(150, batch=batch)
    login(client, bob)

    first = client.get(detail(batch)).content.decode()
    second = client.get(detail(batch), {"page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="report")

    assert first.count('<code class="raw">') == 100
    assert "Page 1 of 2 · 150 in all" in first
    second_html = second.content.decode()
    assert second_html.lstrip().startswith('<section id="report"')
    assert "hx-swap-oob" not in second_html
    assert second_html.count('<code class="raw">') == 50


def test_batch_page_needs_few_queries(client, bob, source, django_assert_max_num_queries):
    batch = FeedBatchFactory(source=source, uploaded_by=bob, rejected_count=300)
    FeedRowErrorFactory.create_batch(300, batch=batch)
    login(client, bob)

    # 8: whether the lead may still upload to the source (the re-process button)
    with django_assert_max_num_queries(8):
        assert client.get(detail(batch)).status_code == 200


def test_polling_a_running_batch_reads_no_report(
    client, bob, source, django_assert_max_num_queries
):
    batch = FeedBatchFactory(source=source, uploaded_by=bob, status="processing")
    FeedRowErrorFactory.create_batch(300, batch=batch)
    login(client, bob)

    with django_assert_max_num_queries(5):
        response = client.get(detail(batch), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="progress")

    assert "every 1s" in response.content.decode()


# --- rejected rows as CSV ----------------------------------------------------------------


def test_rejected_rows_download_as_csv(client, bob, bobs_batch):
    login(client, bob)

    response = client.get(rejected_csv(bobs_batch))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="batch-{bobs_batch.id}-rejected.csv"'
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["line", "field", "reason", "raw"]
    assert [row[:2] for row in rows[1:]] == [["4", "csat"], ["4", "agent"], ["5", "channel"]]
    assert rows[2][3].startswith("T3,ZZ,phone,2026-10-05T12:00:00Z,100,")
    assert "caf\u00e9, late" in rows[2][3]
    assert "unknown channel 'fax'" in rows[3][2]


def test_admin_downloads_any_batchs_rejected_rows(client, dave, bobs_batch):
    login(client, dave)
    response = client.get(rejected_csv(bobs_batch))
    assert response.status_code == 200
    assert len(list(csv.reader(io.StringIO(b"".join(response).decode("utf-8-sig"))))) == 4


# --- re-processing -----------------------------------------------------------------------


def facts() -> list[tuple]:
    return list(Interaction.objects.order_by("external_id").values_list())


def test_reprocessing_leaves_the_facts_unchanged(
    client, bob, bobs_batch, django_capture_on_commit_callbacks
):
    before = facts()
    login(client, bob)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reprocess(bobs_batch))

    # processing is queued after commit, and its end queues re-scoring the touched periods
    assert [callback.func.__self__.name for callback in callbacks] == [
        "performance.process_feed_batch",
        "performance.evaluate_feed_batch",
    ]
    assert response.status_code == 302
    assert response.url == detail(bobs_batch)
    assert facts() == before
    bobs_batch.refresh_from_db()
    assert bobs_batch.status == FeedBatch.Status.COMPLETED
    assert bobs_batch.runs == 2
    assert (bobs_batch.rows_read, bobs_batch.created_count) == (4, 0)
    assert (bobs_batch.unchanged_count, bobs_batch.rejected_count) == (2, 2)
    assert bobs_batch.row_errors.count() == 3
    page = client.get(response.url).content.decode()
    assert "queued to be processed again" in page
    assert "processed 2 times" in page


def test_reprocess_needs_a_post(client, bob, bobs_batch):
    login(client, bob)
    assert client.get(reprocess(bobs_batch)).status_code == 405


def test_a_batch_already_waiting_is_not_queued_twice(
    client, bob, source, django_capture_on_commit_callbacks
):
    batch = received(source, bob)
    login(client, bob)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reprocess(batch), follow=True)

    assert callbacks == []
    assert "cannot be re-processed now" in response.content.decode()
    batch.refresh_from_db()
    assert (batch.status, batch.runs) == (FeedBatch.Status.RECEIVED, 0)


def test_a_batch_that_failed_on_receipt_is_not_reprocessed(
    client, dave, source, settings, django_capture_on_commit_callbacks
):
    settings.FEED_MAX_BYTES = 10
    batch = received(source, dave)
    login(client, dave)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reprocess(batch))

    assert callbacks == []
    batch.refresh_from_db()
    assert batch.status == FeedBatch.Status.FAILED
    assert "larger than FEED_MAX_BYTES" in batch.error


def test_htmx_history_restore_gets_the_whole_page(client, bob, bobs_batch):
    login(client, bob)

    response = client.get(
        detail(bobs_batch), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]
