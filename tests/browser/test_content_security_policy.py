"""Every page, the admin and the API docs run under the Content Security Policy: Chromium
reports no refused script or style."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from performance.models import FeedBatch, ServiceStandard
from performance.services.ingest import feed_batch_receive
from tests.browser.pages import log_in
from tests.browser.test_heatmap import seed_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FEED = "external_id;agent;channel;started_at;handle_seconds\nT1;A1;phone;2026-10-05 10:00:00;312\n"


def test_pages_admin_and_api_docs_break_no_rule_of_the_policy(page: Page, dave, bob, alice, source):
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    seed_history([alice], source, until=timezone.localdate() - timedelta(days=1))
    standard = ServiceStandard.objects.first()
    batch = feed_batch_receive(
        source=source,
        stream=io.BytesIO(FEED.encode()),
        original_name="queued.csv",
        via=FeedBatch.Via.UPLOAD,
        uploaded_by=bob,
    )
    log_in(page, "dave")
    for url in [
        "/",
        "/feeds/upload/",
        "/feeds/batches/",
        f"/feeds/batches/{batch.id}/",
        "/teams/heatmap/",
        f"/agents/{alice.id}/scorecard/",
        "/admin/",
        f"/admin/performance/servicestandard/{standard.pk}/change/",
        "/api/docs/",
    ]:
        response = page.goto(url)
        assert response is not None and response.ok, url
        page.wait_for_load_state("networkidle")
        if "scorecard" in url:
            expect(page.locator("[data-trend] canvas").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_be_visible()

    page.goto(f"/feeds/batches/{batch.id}/")
    expect(page.locator("rect.progress-fill")).to_have_attribute("width", "0%")
    assert refused == []
