"""Journey: an agent sees their points on the home page, opens the points page and follows
an entry to the interactions behind it; their lead adjusts the agent's points with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from performance.services.evaluation import evaluate_periods
from rewards.services.reconcile import reconcile
from tests.browser.pages import log_in
from tests.factories import make_interactions, make_standard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def week_44_points(alice, source):
    make_standard(name="Weekly CSAT", metric="csat", period="week", target=80)
    make_interactions(alice, source=source, on=date(2026, 10, 27), count=4, csat=[5, 5, 4, 4])
    evaluate_periods(since=date(2026, 10, 26), until=date(2026, 11, 1))
    reconcile()
    return alice


def test_an_agent_follows_their_points_to_the_interactions(page: Page, week_44_points):
    log_in(page, "alice")
    expect(page.get_by_test_id("home-points")).to_contain_text("10")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My points").click()
    expect(page.get_by_test_id("lifetime")).to_have_text("10")
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("Weekly CSAT")
    history.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Behind the number")
    expect(page.locator("main")).to_contain_text("Weekly CSAT")


def test_a_lead_adjusts_an_agents_points_with_a_reason(page: Page, week_44_points, bob):
    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Points").click()
    page.get_by_test_id("team-points").get_by_role("link", name=week_44_points.display_name).click()
    page.get_by_label("Points").fill("0")
    page.get_by_label("Reason").fill("Nothing")
    page.get_by_role("button", name="Record adjustment").click()
    expect(page.locator(".field-error")).to_have_text("An adjustment must add or take away points.")
    page.get_by_label("Points").fill("-3")
    page.get_by_label("Reason").fill("Survey answered by a colleague")
    page.get_by_role("button", name="Record adjustment").click()
    expect(page.get_by_test_id("lifetime")).to_have_text("7")
    expect(page.get_by_test_id("history")).to_contain_text("Survey answered by a colleague")
