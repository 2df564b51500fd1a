"""Journey: a quality analyst finds an interaction by its protocol, scores it on the voice
form with the keyboard alone and finishes the review; the agent reads every item and comment,
acknowledges it and disputes an item; the team's supervisor accepts, and the interaction's QA
score follows the review's each time."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from coaching.models import QAForm, QAItem, QAReview, QASection
from performance.models import Channel, Interaction
from tests.browser.pages import log_in
from tests.factories import InteractionFactory, make_quality_analyst

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def voice_form(db):
    phone, _ = Channel.objects.get_or_create(code="phone", defaults={"name": "Telefone"})
    form = QAForm.objects.create(name="Monitoria de voz", channel=phone)
    section = QASection.objects.create(form=form, title="Atendimento")
    QAItem.objects.create(section=section, text="Greeting with name", weight=2, position=1)
    QAItem.objects.create(
        section=section,
        text="Active listening",
        kind=QAItem.Kind.SCALE,
        scale_max=5,
        weight=4,
        position=2,
    )
    QAItem.objects.create(
        section=section, text="Data protection", critical=True, allows_na=False, position=3
    )
    return form


def log_out(page: Page) -> None:
    page.get_by_test_id("account-menu").locator("summary").click()
    page.get_by_role("button", name="Log out").click()


def test_an_analyst_scores_an_interaction_by_keyboard_and_the_agent_acknowledges(
    page: Page, live_server, voice_form, sao_paulo, paulo, source, carol
):
    make_quality_analyst(sao_paulo, username="monica")
    call = InteractionFactory(
        agent=paulo, source=source, channel="phone", external_id="CALL-1", case_id="PROT-77"
    )
    InteractionFactory(agent=paulo, source=source, channel="phone", external_id="CALL-2")

    log_in(page, "monica")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quality").click()
    search = page.get_by_label("Protocol or external id")
    search.fill("prot-77")
    search.press("Enter")
    table = page.get_by_test_id("reviewable")
    expect(table.get_by_role("row")).to_have_count(2)  # the heading and CALL-1
    table.get_by_role("button", name="Review CALL-1 on Monitoria de voz").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"QA review: {paulo.display_name}")

    # From here on, the keyboard alone.
    page.get_by_role("radio", name="Yes").first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type("Used the script")
    page.keyboard.press("Tab")  # into the scale, on 0
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # into data protection, on "Yes"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Good call overall")
    page.keyboard.press("Tab")  # Save draft
    page.keyboard.press("Tab")  # Finish review
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").or_(page.locator(".messages"))).to_contain_text(
        "now scores 88.57"
    )
    review = QAReview.objects.get()
    assert review.status == "finished" and review.score == 88.57
    assert Interaction.objects.get(pk=call.pk).qa_score == 88.57
    log_out(page)

    log_in(page, paulo.user.username)
    page.goto("/coaching/me/")
    page.get_by_test_id("my-reviews-link").click()
    expect(page.get_by_test_id("to-acknowledge")).to_contain_text("1 review waits for you")
    page.get_by_test_id("my-reviews").get_by_role("link").first.click()
    expect(page.get_by_test_id("review-score")).to_contain_text("88.57")
    expect(page.get_by_text("Used the script")).to_be_visible()
    expect(page.get_by_test_id("review-comment")).to_have_text("Good call overall")
    expect(
        page.get_by_test_id("answer-" + str(voice_form.sections.get().items.get(position=2).pk))
    ).to_contain_text("4 of 5")
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("review-acknowledged")).not_to_have_text(re.compile("not yet"))
    assert QAReview.objects.get().acknowledged_at is not None

    dispute = page.get_by_test_id("dispute-form")
    dispute.get_by_label("Active listening").check()
    dispute.get_by_label("Why").fill("I let the customer finish every sentence")
    dispute.get_by_test_id("dispute-send").click()
    expect(page.get_by_test_id("dispute-1")).to_contain_text("Open")
    expect(page.get_by_test_id("dispute-form")).to_have_count(0)
    log_out(page)

    log_in(page, carol.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coaching").click()
    page.get_by_test_id("quality-link").click()
    page.get_by_test_id("disputes-to-decide").get_by_role("link", name=paulo.display_name).click()
    decide = page.get_by_test_id("decide-form")
    decide.get_by_role("radio", name="5").check()
    decide.get_by_label("Reason").fill("Listened again: full marks")
    decide.get_by_test_id("dispute-accept").click()
    expect(page.get_by_test_id("dispute-1")).to_contain_text("Accepted")
    expect(page.get_by_test_id("review-score")).to_contain_text("100")
    assert Interaction.objects.get(pk=call.pk).qa_score == 100.0
