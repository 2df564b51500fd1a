"""Journey in Portuguese: an agent whose browser speaks pt-BR logs in, reads the scorecard in
Portuguese with pt-BR numbers and dates, and switches to English with JavaScript turned off."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from performance.models import UserPreference
from performance.services.evaluation import evaluate_periods
from tests.factories import PASSWORD, make_interactions, make_standard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WEEK_44 = date(2026, 10, 26)


@pytest.fixture
def portuguese_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="pt-BR", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_agent_reads_the_scorecard_in_portuguese_and_switches_to_english(
    portuguese_page: Page, browser, live_server, alice, source
):
    page = portuguese_page
    alice.user.first_name, alice.user.last_name = "Inês", "Gonçalves"
    alice.user.save(update_fields=["first_name", "last_name"])
    make_standard(
        name="CSAT semanal ≥ 80 %", metric="csat", period="week", target=80, stretch_target=90.5
    )
    make_standard(name="TMA do telefone", metric="aht", channel="phone", period="week", target=360)
    make_interactions(
        alice,
        source=source,
        on=date(2026, 10, 27),
        count=12,
        csat=[5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 2, 1],
        handle_seconds=310,
    )
    evaluate_periods(since=WEEK_44, until=date(2026, 11, 1))

    page.goto("/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Entrar no Atendo")
    page.get_by_label("Usuário").fill("alice")
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Olá, Inês")

    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Meu desempenho"
    ).click()
    page.goto(page.url.split("?")[0] + "?date=2026-10-28")
    expect(page.get_by_role("heading", level=1)).to_have_text("Seu painel de desempenho")
    expect(page.get_by_test_id("as-of")).to_have_text("Qua, 28/10/2026")
    cards = page.get_by_test_id("standard-card")
    csat = cards.filter(has_text="CSAT semanal")
    expect(csat.get_by_test_id("period")).to_have_text("Semana 44 de 2026 (26/10 a 01/11)")
    expect(csat.get_by_test_id("value")).to_have_text("75 %")
    expect(csat.get_by_test_id("outcome")).to_have_text("Não atingiu")
    expect(csat).to_contain_text("≥ 90,5 %")
    aht = cards.filter(has_text="TMA do telefone")
    expect(aht.get_by_test_id("value")).to_have_text("5 min 10 s")
    expect(aht.get_by_test_id("outcome")).to_have_text("Atingiu")
    expect(page.locator("html")).to_have_attribute("lang", "pt-br")

    # The switch is a plain form: it works with JavaScript turned off.
    without_js = browser.new_context(
        base_url=live_server.url,
        locale="pt-BR",
        java_script_enabled=False,
        storage_state=page.context.storage_state(),
    )
    plain = without_js.new_page()
    plain.goto(page.url)
    expect(plain.get_by_role("heading", level=1)).to_have_text("Seu painel de desempenho")
    plain.get_by_role("button", name="English").click()

    expect(plain).to_have_url(re.compile(r"/agents/\d+/scorecard/\?date=2026-10-28$"))
    expect(plain.get_by_role("heading", level=1)).to_have_text("Your scorecard")
    expect(plain.get_by_test_id("as-of")).to_have_text("Wed 28 Oct 2026")
    expect(
        plain.get_by_test_id("standard-card").filter(has_text="CSAT").get_by_test_id("outcome")
    ).to_have_text("Missed")
    expect(plain.locator("html")).to_have_attribute("lang", "en")
    assert UserPreference.objects.get(user=alice.user).language == "en"
    without_js.close()
