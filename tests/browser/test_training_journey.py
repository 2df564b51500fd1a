"""Journey: an agent opens an assigned module from My coaching, reads its lessons one after
the other, passes the quiz and sees it completed, with its points in their balance."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from coaching.models import Choice, Lesson, Question, TrainingModule
from coaching.services.training import training_assign
from rewards.models import AgentBalance
from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def assigned(alice, bob):
    module = TrainingModule.objects.create(title="Empathy on the phone", points=30, pass_mark=100)
    Lesson.objects.create(
        module=module, position=1, title="Listen first", body="Let them **finish**."
    )
    Lesson.objects.create(module=module, position=2, title="Closing", body="Confirm the next step.")
    question = Question.objects.create(module=module, position=1, text="Before proposing a fix?")
    Choice.objects.create(question=question, text="Confirm the problem", correct=True)
    Choice.objects.create(question=question, text="Transfer the call")
    training_assign(agents=[alice], module=module, assigned_by=bob, due_on=None)


def test_an_agent_completes_a_module_with_its_quiz(page: Page, assigned, alice):
    log_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My coaching").click()
    page.get_by_test_id("my-training").get_by_role("link", name="Empathy on the phone").click()
    expect(page.get_by_test_id("lesson")).to_contain_text("Let them finish.")
    page.get_by_role("button", name="Done: next").click()
    expect(page.get_by_test_id("lesson").get_by_role("heading")).to_have_text("Closing")
    page.get_by_role("button", name="Done: next").click()
    quiz = page.get_by_test_id("quiz")
    quiz.get_by_label("Confirm the problem").check()
    quiz.get_by_role("button", name="Submit answers").click()
    expect(page.locator(".messages")).to_contain_text("Training completed: well done!")
    expect(page.get_by_test_id("training-status").first).to_have_text("Completed")
    page.goto("/rewards/me/")
    expect(page.get_by_test_id("lifetime")).to_have_text("30")
    assert AgentBalance.objects.get(agent=alice).lifetime == 30
