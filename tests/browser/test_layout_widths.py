"""At phone width the scorecard, the heatmap and the batch list fit the screen (a wide table
scrolls inside its own card, never the page); on a laptop the batch table fits its card."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from performance.periods import last_complete_period
from performance.services.evaluation import evaluate_periods
from tests.factories import (
    PASSWORD,
    AgentFactory,
    FeedBatchFactory,
    UserFactory,
    make_interactions,
    make_standard,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
METRICS = [
    ("Customer satisfaction", "csat", 80),
    ("Phone handle time (6 min)", "aht", 360),
    ("First response (4 h)", "frt", 14400),
    ("First-contact resolution", "fcr", 70),
    ("Quality score", "qa", 85),
    ("Transfers", "transfer_rate", 10),
    ("Contacts handled", "volume", 20),
]


@pytest.fixture
def world(alice, bob, lisbon, source):
    """Seven weekly standards judged last week for four agents, and a page of batches with
    long names, uploaded by the lead."""
    for name, metric, target in METRICS:
        make_standard(name=name, metric=metric, period="week", target=target, min_sample=2)
    make_standard(name="Daily CSAT", metric="csat", period="day", target=80, min_sample=1)
    agents = [alice] + [
        AgentFactory(
            team=lisbon,
            user=UserFactory(username=f"agent{n}", first_name=first, last_name="Gonçalves"),
        )
        for n, first in enumerate(["Maria Eduarda", "João Pedro", "Ana Beatriz"])
    ]
    today = timezone.localtime(timezone=ZoneInfo(lisbon.time_zone)).date()
    week = last_complete_period("week", today=today)
    for agent in agents:
        for offset in range(7):
            make_interactions(
                agent,
                source=source,
                on=week.start + timedelta(days=offset),
                count=3,
                handle_seconds=[300, 340, 420],
                first_response_seconds=[600, 9000, 20000],
                first_contact_resolution=[True, False, True],
                csat=[5, 4, 2],
                qa_score=[88, None, None],
                transferred=[False, False, True],
            )
    evaluate_periods(since=week.start, until=today - timedelta(days=1))
    for n in range(12):
        FeedBatchFactory(
            source=source,
            uploaded_by=bob,
            original_name=f"relatorio-atendimentos-sao-paulo-e-lisboa-{n:02d}-exportado.csv",
            rows_read=123456,
            created_count=120000,
            updated_count=3000,
            unchanged_count=456,
            rejected_count=n,
        )


def log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def laptop(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_agents_scorecard_fits_a_phone(phone: Page, world):
    log_in(phone, "alice")
    phone.goto("/me/")

    expect(phone.get_by_test_id("standard-card")).to_have_count(len(METRICS) + 1)
    assert page_width(phone) <= PHONE["width"]


def test_the_heatmap_fits_a_phone_and_scrolls_inside_its_card(phone: Page, world):
    log_in(phone, "bob")
    phone.goto("/teams/heatmap/")

    table = phone.get_by_test_id("heatmap")
    expect(table.get_by_role("row")).to_have_count(1 + 4 + 1)
    assert page_width(phone) <= PHONE["width"]
    scroller = table.locator("xpath=..")
    assert scroller.evaluate("box => box.scrollWidth > box.clientWidth")  # the table scrolls
    scroller.evaluate("box => { box.scrollLeft = box.scrollWidth }")
    left = scroller.bounding_box()["x"]
    name = table.get_by_role("rowheader").first.bounding_box()
    assert left - 1 <= name["x"] <= left + 8  # the agents' names stay in view


def test_the_batch_list_fits_a_phone(phone: Page, world):
    log_in(phone, "bob")
    phone.goto("/feeds/batches/")

    expect(phone.locator("#batches tbody tr")).to_have_count(12)
    assert page_width(phone) <= PHONE["width"]


def test_the_batch_table_fits_its_card_on_a_laptop(laptop: Page, world):
    log_in(laptop, "bob")
    for url in ("/feeds/batches/", "/"):
        laptop.goto(url)
        table = laptop.locator("table.table-batches")
        expect(table.locator("tbody tr").first).to_be_visible()
        table_width = table.evaluate("t => t.getBoundingClientRect().width")
        card_width = table.evaluate(
            "t => { const card = t.closest('.card'); const style = getComputedStyle(card);"
            " return card.clientWidth - parseFloat(style.paddingLeft)"
            " - parseFloat(style.paddingRight) }"
        )
        assert table_width <= card_width + 0.5, url
        assert page_width(laptop) <= LAPTOP["width"]
