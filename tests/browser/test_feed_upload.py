"""Journey: a team lead uploads a feed, watches it finish, reads and downloads the report."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from performance.models import FeedBatch, Interaction
from performance.services.ingest import feed_batch_process, feed_batch_receive
from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")

GOOD_AND_BAD = (
    "external_id;agent;channel;started_at;handle_seconds;csat;resolved\n"
    "T1;A1;phone;2026-10-05 10:00:00;312,5;5;sim\n"
    "T2;A1;chat;2026-10-05 11:00:00;120;4;nao\n"
    "T3;ZZ;phone;2026-10-05 12:00:00;100;;\n"
    "T4;A1;fax;2026-10-05 12:30:00;100;;\n"
    "T5;A1;email;2026-10-05 13:00:00;-5;9;\n"
)


def test_lead_uploads_a_feed_and_reads_its_report(page: Page, bob, alice, source, lisbon, tmp_path):
    source.upload_teams.add(lisbon)  # an admin opened the helpdesk to Lisbon's leads
    feed = tmp_path / "october.csv"
    feed.write_text(GOOD_AND_BAD, encoding="utf-8")

    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feeds").click()
    page.get_by_role("link", name="Upload a feed").first.click()
    expect(page).to_have_url(re.compile(r"/feeds/upload/$"))
    page.screenshot(path=SCREENSHOTS / "atendo-upload.png", full_page=True)
    page.get_by_label("Source").select_option(label="Helpdesk")
    page.get_by_label("File").set_input_files(feed)
    page.get_by_role("button", name="Upload and process").click()

    expect(page).to_have_url(re.compile(r"/feeds/batches/\d+/$"))
    expect(page.get_by_test_id("status")).to_have_text("Completed")
    expect(page.get_by_test_id("percent")).to_have_text("100 %")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("rows")).to_have_text("5")
    expect(page.get_by_test_id("created")).to_have_text("2")
    expect(page.get_by_test_id("rejected")).to_have_text("3")
    report = page.locator("#report")
    expect(report.get_by_role("row")).to_have_count(5)  # header + 4 problems on 3 rows
    expect(report).to_contain_text("unknown agent 'ZZ'")
    expect(report).to_contain_text("unknown channel 'fax'")
    expect(report).to_contain_text("is negative")
    page.screenshot(path=SCREENSHOTS / "atendo-batch-report.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download rejected rows (CSV)").click()
    download = info.value
    assert download.suggested_filename.endswith("-rejected.csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["line", "field", "reason", "raw"]
    assert [row[0] for row in rows[1:]] == ["4", "5", "6", "6"]

    assert Interaction.objects.filter(agent=alice).count() == 2
    assert FeedBatch.objects.get().uploaded_by == bob


def test_progress_bar_polls_until_the_batch_finishes(page: Page, bob, alice, source, lisbon):
    source.upload_teams.add(lisbon)  # so bob may re-process his upload
    batch = feed_batch_receive(
        source=source,
        stream=io.BytesIO(GOOD_AND_BAD.encode()),
        original_name="queued.csv",
        via=FeedBatch.Via.UPLOAD,
        uploaded_by=bob,
    )
    log_in(page, "bob")
    page.goto(f"/feeds/batches/{batch.id}/")
    expect(page.get_by_test_id("status")).to_have_text("Received")
    expect(page.get_by_test_id("percent")).to_have_text("0 %")
    expect(page.locator("#report")).to_contain_text("appears here when processing finishes")
    page.screenshot(path=SCREENSHOTS / "atendo-batch-waiting.png", full_page=True)

    # Requests now pass through this thread, so none reaches the server (which may share
    # an in-memory SQLite connection with this thread) while the batch is processed here.
    page.route("**/feeds/batches/**", lambda route: route.continue_())
    with page.expect_response(lambda response: f"/feeds/batches/{batch.id}/" in response.url):
        pass
    feed_batch_process(batch_id=batch.id)

    expect(page.get_by_test_id("status")).to_have_text("Completed")
    expect(page.get_by_test_id("percent")).to_have_text("100 %")
    expect(page.get_by_test_id("rejected")).to_have_text("3")
    expect(page.locator("#report")).to_contain_text("unknown agent 'ZZ'")
    expect(page.get_by_role("button", name="Re-process")).to_be_visible()
    assert page.locator("#progress[hx-trigger]").count() == 0
    page.screenshot(path=SCREENSHOTS / "atendo-batch-polled.png", full_page=True)


def test_admin_filters_the_batch_list_in_place(page: Page, dave, bob, alice, source):
    for name, text in [("good.csv", GOOD_AND_BAD), ("broken.csv", "no;header;here\n")]:
        batch = feed_batch_receive(
            source=source,
            stream=io.BytesIO(text.encode()),
            original_name=name,
            via=FeedBatch.Via.UPLOAD,
            uploaded_by=bob,
        )
        feed_batch_process(batch_id=batch.id)

    log_in(page, "dave")
    page.screenshot(path=SCREENSHOTS / "atendo-home-admin.png", full_page=True)
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")
    ).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feeds").click()
    batches = page.locator("#batches")
    expect(batches.get_by_role("row")).to_have_count(3)

    page.get_by_label("Status").select_option(label="Failed")

    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(batches.get_by_role("row")).to_have_count(2)
    expect(batches).to_contain_text("broken.csv")
    expect(batches).not_to_contain_text("good.csv")
    page.screenshot(path=SCREENSHOTS / "atendo-batch-list.png", full_page=True)


def test_agent_sees_their_home_and_no_feed_pages(page: Page, alice, source):
    page.goto("/login/")
    page.screenshot(path=SCREENSHOTS / "atendo-login.png", full_page=True)
    log_in(page, "alice")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(
        ["Home", "My scorecard", "My points", "My coaching", "Leaderboards", "Challenges", "Store"]
    )
    expect(page.locator("main")).to_contain_text("Lisbon")
    page.screenshot(path=SCREENSHOTS / "atendo-home-agent.png", full_page=True)

    response = page.goto("/feeds/upload/")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You don't have access to this page")

    page.get_by_test_id("account-menu").locator("summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
