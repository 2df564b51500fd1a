"""Journey: an agent opens the leaderboards from the navigation, sees their own standing,
switches window and goes back a month (htmx swaps the board and the address follows); a lead
switches the team of a team board."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rewards.models import Leaderboard
from tests.browser.pages import log_in
from tests.rewards.helpers import award, board
from tests.scenarios import agent_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boards(alice, lisbon, paulo):
    board(slug="geral", name="Geral", default_window="month", position=1)
    board(slug="equipe", name="Equipe", scope=Leaderboard.Scope.TEAM, position=2)
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    ana = agent_in(lisbon, "ana")
    award(ana, 40, earned_on=this_month)
    award(alice, 25, earned_on=this_month)
    award(paulo, 10, earned_on=this_month)
    award(alice, 70, earned_on=last_month)
    return ana


def test_an_agent_switches_window_and_goes_back_a_month(page: Page, boards, alice):
    log_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leaderboards").click()
    expect(page).to_have_url(re.compile(r"/rewards/leaderboards/geral/$"))
    expect(page.get_by_test_id("own-standing")).to_contain_text("You are #2")
    expect(page.get_by_test_id("gap")).to_have_text("15 points to the next rank")

    page.get_by_test_id("spans").get_by_role("link", name="Week").click()
    expect(page).to_have_url(re.compile(r"window=week"))
    expect(page.get_by_test_id("spans").get_by_role("link", name="Week")).to_have_attribute(
        "aria-current", "true"
    )

    page.get_by_test_id("spans").get_by_role("link", name="Month").click()
    expect(page.get_by_test_id("spans").get_by_role("link", name="Month")).to_have_attribute(
        "aria-current", "true"
    )
    page.get_by_role("link", name="← Previous").click()
    expect(page).to_have_url(re.compile(r"window=month&period=\d{4}-\d{2}"))
    expect(page.get_by_test_id("own-standing")).to_contain_text("You are #1")
    expect(page.get_by_test_id("viewer-row")).to_contain_text("70")
    page.get_by_role("link", name="Current").click()
    expect(page.get_by_test_id("own-standing")).to_contain_text("You are #2")


def test_a_lead_switches_the_team_of_a_team_board(page: Page, boards, bob, sao_paulo, paulo):
    sao_paulo.leads.add(bob)
    log_in(page, "bob")
    page.goto("/rewards/leaderboards/equipe/")
    rows = page.get_by_test_id("board-rows")
    expect(rows).to_contain_text(boards.display_name)
    page.get_by_label("Team").select_option(label=sao_paulo.name)
    expect(page).to_have_url(re.compile(rf"team={sao_paulo.pk}"))
    expect(rows).to_contain_text(paulo.display_name)
    expect(rows).not_to_contain_text(boards.display_name)
