"""Journey: an agent redeems an item from the store (the points are held at once and the
redemption awaits approval); their lead approves it from the queue and the agent sees it
approved. Also at phone width, in pt-BR."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import log_in
from tests.factories import PASSWORD
from tests.rewards.helpers import award, store_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(alice):
    award(alice, 120)
    return store_item(name="Cinema tickets", cost=50, stock=2)


def log_out(page: Page) -> None:
    page.get_by_test_id("account-menu").locator("summary").click()
    page.get_by_role("button", name="Log out").click()


def test_an_agent_redeems_and_their_lead_approves(page: Page, shop, alice, bob):
    log_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Store").click()
    expect(page.get_by_test_id("spendable")).to_have_text("120")
    item = page.get_by_test_id("store-item").filter(has_text="Cinema tickets")
    expect(item).to_contain_text("2 left")
    item.get_by_role("button", name="Redeem").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My redemptions")
    expect(page.locator(".messages")).to_contain_text("50 points are held")
    expect(page.get_by_test_id("redemption-status")).to_have_text("Awaiting approval")
    log_out(page)

    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    row = page.get_by_test_id("pending-redemption")
    expect(row).to_contain_text(alice.display_name)
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("pending")).to_contain_text("Nothing awaits your approval.")
    expect(page.get_by_test_id("decided")).to_contain_text("Approved")
    log_out(page)

    log_in(page, "alice")
    page.goto("/rewards/redemptions/")
    expect(page.get_by_test_id("redemption-status")).to_have_text("Approved")
    page.goto("/rewards/me/")
    expect(page.get_by_test_id("spendable")).to_have_text("70")
    expect(page.get_by_test_id("lifetime")).to_have_text("120")


def test_an_agent_redeems_on_a_phone_in_portuguese(browser, live_server, shop, alice):
    context = browser.new_context(
        base_url=live_server.url, locale="pt-BR", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Usuário").fill("alice")
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar", exact=True).click()
    page.goto("/rewards/store/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Loja de prêmios")
    expect(page.get_by_test_id("store-item")).to_contain_text("Restam 2")
    page.get_by_test_id("store-item").get_by_role("button", name="Resgatar").click()
    expect(page.get_by_test_id("redemption-status")).to_have_text("Aguardando aprovação")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
