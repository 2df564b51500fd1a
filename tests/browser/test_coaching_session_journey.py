"""Journey: a lead opens the coaching queue, schedules a session from a flag (logged the day
after it took place), writes notes and an action item and marks it held; the agent reads it
on a phone in pt-BR, ticks the action item and acknowledges it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from coaching.models import CoachingSession
from coaching.services.flags import FlagScope, flags_derive
from tests.browser.pages import log_in
from tests.coaching.helpers import weeks
from tests.factories import PASSWORD, make_standard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice_flag(alice):
    fcr = make_standard(name="FCR", metric="fcr", period="week", target=85)
    weeks(alice, fcr, "M M", values={0: 60.0, 1: 70.0})
    flags_derive(scope=FlagScope(agent_ids=(alice.pk,)))


def log_out(page: Page) -> None:
    page.get_by_test_id("account-menu").locator("summary").click()
    page.get_by_role("button", name="Log out").click()


def test_a_lead_runs_a_session_from_a_flag_and_the_agent_acknowledges_it(
    page: Page, browser, live_server, alice_flag, alice, bob
):
    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coaching").click()
    page.get_by_test_id("queue").get_by_role("link", name=alice.display_name).click()
    page.get_by_test_id("schedule-session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule a coaching session")
    form = page.get_by_test_id("schedule-form")
    expect(form.get_by_role("checkbox", name=f"{alice.display_name}: FCR")).to_be_checked()
    yesterday = timezone.localdate() - timedelta(days=1)
    form.get_by_label("Day").fill(yesterday.isoformat())
    form.get_by_label("Time").fill("10:00")
    form.get_by_role("button", name="Schedule").click()
    expect(page.get_by_test_id("agenda")).to_contain_text("FCR")

    record = page.get_by_test_id("record-form")
    record.get_by_label("Notes").fill("We listened to two calls together.")
    record.get_by_label("The session was held").check()
    record.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Session record saved.")
    items = page.get_by_test_id("item-form")
    items.get_by_label("To do").fill("Listen to three calls with QA")
    items.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("action-items")).to_contain_text("Listen to three calls with QA")
    expect(page.get_by_test_id("session-status").first).to_have_text("Held")
    log_out(page)

    context = browser.new_context(
        base_url=live_server.url, locale="pt-BR", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    phone = context.new_page()
    phone.goto("/login/")
    phone.get_by_label("Usuário").fill("alice")
    phone.get_by_label("Senha").fill(PASSWORD)
    phone.get_by_role("button", name="Entrar", exact=True).click()
    phone.goto("/coaching/me/")
    phone.get_by_test_id("to-acknowledge").get_by_role("link").first.click()
    expect(phone.get_by_test_id("notes")).to_have_text("We listened to two calls together.")
    phone.get_by_role("button", name="Marcar como feito").click()
    expect(phone.get_by_test_id("action-items").locator("li.done")).to_have_count(1)
    phone.get_by_label("Seu comentário (opcional)").fill("Combinado.")
    phone.get_by_role("button", name="Li e estou ciente").click()
    expect(phone.locator(".messages")).to_contain_text("seu supervisor vê que você leu")
    expect(phone.get_by_test_id("acknowledged")).to_contain_text("Combinado.")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
    session = CoachingSession.objects.get()
    assert session.acknowledged_at is not None and session.coach == bob
