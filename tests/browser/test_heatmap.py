"""Journey: a team lead reads the team heatmap, steps back a week in place, and opens an
agent's scorecard at that week with its trend charts."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from performance.periods import last_complete_period
from performance.services.evaluation import evaluate_periods
from tests.browser.pages import log_in
from tests.factories import make_interactions, make_standard
from tests.scenarios import agent_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("/tmp")
HISTORY_DAYS = 49


def seed_history(agents, source, *, until: date) -> None:
    """Seven weeks of phone and chat contacts with surveys and some QA, a different mix
    per agent, evaluated against four weekly standards."""
    quality = make_standard(
        name="Quality", metric="qa", period="week", target=85, stretch_target=92, min_sample=2
    )
    make_standard(
        name="Customer satisfaction",
        metric="csat",
        period="week",
        target=80,
        stretch_target=90,
        min_sample=5,
    )
    make_standard(
        name="Phone handle time",
        metric="aht",
        channel="phone",
        period="week",
        target=360,
        stretch_target=300,
        min_sample=5,
        quality_gate=quality,
    )
    make_standard(
        name="Chat service level",
        metric="sla",
        channel="chat",
        period="week",
        target=80,
        stretch_target=90,
        threshold_seconds=60,
        min_sample=5,
    )
    chance = random.Random(44)
    for skill, agent in zip([0.95, 0.8, 0.65, 0.5], agents, strict=False):
        for offset in range(HISTORY_DAYS):
            day = until - timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            make_interactions(
                agent,
                source=source,
                on=day,
                count=3,
                channel="phone",
                handle_seconds=[chance.gauss(420 - 160 * skill, 40) for _ in range(3)],
                csat=[5 if chance.random() < skill else chance.choice([2, 3, 4]) for _ in range(3)],
                qa_score=[chance.gauss(70 + 22 * skill, 4), None, None],
            )
            make_interactions(
                agent,
                source=source,
                on=day,
                count=2,
                channel="chat",
                first_response_seconds=[
                    chance.expovariate(1 / (100 - 70 * skill)) for _ in range(2)
                ],
                csat=[5 if chance.random() < skill else 3, None],
            )
    evaluate_periods(since=until - timedelta(days=HISTORY_DAYS), until=until)


def test_lead_steps_back_a_week_and_opens_an_agents_scorecard(
    page: Page, bob, alice, lisbon, source
):
    teammates = [
        agent_in(lisbon, username, first_name=first, last_name=last)
        for username, first, last in [
            ("rita", "Rita", "Moreira"),
            ("tiago", "Tiago", "Santos"),
            ("ines", "Inês", "Carvalho"),
        ]
    ]
    alice.user.first_name, alice.user.last_name = "Alice", "Ferreira"
    alice.user.save(update_fields=["first_name", "last_name"])
    yesterday = timezone.localtime(timezone=ZoneInfo(lisbon.time_zone)).date() - timedelta(days=1)
    seed_history([alice, *teammates], source, until=yesterday)
    last_week = last_complete_period("week", today=yesterday + timedelta(days=1))
    week_before = last_week.previous()

    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team", exact=True).click()
    expect(page).to_have_url(re.compile(r"/teams/heatmap/$"))
    period = page.get_by_test_id("period")
    expect(period).to_have_text(last_week.label)  # the last complete week
    heatmap = page.get_by_test_id("heatmap")
    expect(heatmap.get_by_role("row")).to_have_count(1 + 4 + 1)  # header, agents, totals
    page.screenshot(path=SCREENSHOTS / "atendo-heatmap.png", full_page=True)

    page.evaluate("window.atendoNoReload = true")
    page.get_by_role("link", name="← Previous").click()

    expect(period).to_have_text(week_before.label)
    expect(page).to_have_url(re.compile(rf"period={week_before.key}"))
    assert page.evaluate("window.atendoNoReload") is True  # swapped in place, not reloaded
    page.screenshot(path=SCREENSHOTS / "atendo-heatmap-previous.png", full_page=True)

    row = heatmap.get_by_role("row").filter(has_text="Alice Ferreira")
    row.get_by_test_id("cell").first.click()

    expect(page).to_have_url(
        re.compile(rf"/agents/{alice.id}/scorecard/\?date={week_before.start}")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice Ferreira")
    expect(page.get_by_test_id("standard-card")).to_have_count(4)
    expect(page.get_by_test_id("standard-card").first.get_by_test_id("period")).to_have_text(
        week_before.label
    )
    canvas = page.locator("[data-trend] canvas").first
    expect(canvas).to_be_visible()
    # A locator, not wait_for_function: the page's CSP forbids the eval its polling uses.
    expect(page.locator("[data-trend][data-drawn]")).to_have_count(4)
    assert (
        page.evaluate(
            "Chart.getChart(document.querySelector('[data-trend] canvas')).data.labels.length"
        )
        == 12
    )
    page.screenshot(path=SCREENSHOTS / "atendo-scorecard.png", full_page=True)

    page.get_by_test_id("standard-card").filter(has_text="Customer satisfaction").get_by_test_id(
        "value"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Behind the number")
    expect(page.get_by_test_id("interactions")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "atendo-interactions.png", full_page=True)


def test_lead_switches_the_channel_in_place(page: Page, bob, alice, lisbon, source):
    yesterday = timezone.localtime(timezone=ZoneInfo(lisbon.time_zone)).date() - timedelta(days=1)
    seed_history([alice], source, until=yesterday)

    log_in(page, "bob")
    page.goto("/teams/heatmap/")
    page.evaluate("window.atendoNoReload = true")
    page.get_by_label("Channel").select_option(label="Chat")

    expect(page).to_have_url(re.compile(r"channel=chat"))
    expect(page.locator(".heat-standard")).to_have_text(
        ["Chat service level", "Customer satisfaction", "Quality"]
    )
    assert page.evaluate("window.atendoNoReload") is True


def test_agent_reads_their_own_scorecard_from_the_navigation(page: Page, alice, lisbon, source):
    yesterday = timezone.localtime(timezone=ZoneInfo(lisbon.time_zone)).date() - timedelta(days=1)
    seed_history([alice], source, until=yesterday)

    log_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My scorecard").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your scorecard")
    expect(page.get_by_test_id("standard-card")).to_have_count(4)
    # A locator, not wait_for_function: the page's CSP forbids the eval its polling uses.
    expect(page.locator("[data-trend][data-drawn]")).to_have_count(4)
    page.screenshot(path=SCREENSHOTS / "atendo-scorecard-agent.png", full_page=True)
