"""Training: Markdown rendered safely, assignment by a lead and by a flag (once), progress
saved lesson by lesson, quiz scoring and attempts, completion paid once by rewards (and
counted for the trainings badge), overdue marks and reminders once, pages per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from coaching.markdown import lesson_html
from coaching.models import (
    Choice,
    CoachingFlag,
    Lesson,
    Question,
    TrainingAssignment,
    TrainingModule,
)
from coaching.services.flags import FlagScope, flag_open_by_hand, flags_derive
from coaching.services.training import (
    lesson_mark_done,
    quiz_score,
    quiz_submit,
    training_assign,
    training_reminders_send,
)
from performance.models import Notification
from rewards.models import AgentBadge, AgentBalance, Badge, PointsEntry
from rewards.services.training import training_points_award
from tests.coaching.helpers import weeks
from tests.factories import make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def fcr(db):
    return make_standard(name="FCR", metric="fcr", period="week", target=85)


@pytest.fixture
def module(fcr):
    module = TrainingModule.objects.create(
        title="First-contact resolution", points=20, pass_mark=75, attempts_allowed=2
    )
    module.standards.add(fcr)
    for position in (1, 2):
        Lesson.objects.create(
            module=module, position=position, title=f"Lesson {position}", body="**Listen**."
        )
    single = Question.objects.create(module=module, position=1, text="Confirm before closing?")
    Choice.objects.create(question=single, text="Yes", correct=True)
    Choice.objects.create(question=single, text="No")
    several = Question.objects.create(module=module, position=2, text="Which help FCR?")
    Choice.objects.create(question=several, text="Checking the history", correct=True)
    Choice.objects.create(question=several, text="A knowledge base", correct=True)
    Choice.objects.create(question=several, text="Transferring fast")
    return module


def right_answers(module) -> dict[int, list[int]]:
    return {
        question.pk: [choice.pk for choice in question.choices.all() if choice.correct]
        for question in module.questions.all()
    }


@pytest.fixture
def assigned(module, alice, bob):
    [assignment], _ = training_assign(agents=[alice], module=module, assigned_by=bob, due_on=None)
    return assignment


def notices(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("key", flat=True))


class TestMarkdown:
    def test_no_script_event_handler_or_javascript_link_survives(self):
        html = lesson_html(
            "# Title\n\n<script>alert(1)</script> <img src=x onerror=alert(1)> "
            "<a href='javascript:alert(1)'>x</a> [y](javascript:alert(1)) "
            "[ok](https://example.com) **bold**"
        )
        assert "<script" not in html and "<img" not in html and "<a href='javascript" not in html
        assert 'href="javascript' not in html
        assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html
        assert "<strong>bold</strong>" in html


class TestAssigning:
    def test_a_lead_assigns_and_a_second_time_leaves_the_open_one(self, module, alice, bob):
        made, skipped = training_assign(agents=[alice], module=module, assigned_by=bob, due_on=None)
        assert len(made) == 1 and skipped == []
        made, skipped = training_assign(agents=[alice], module=module, assigned_by=bob, due_on=None)
        assert made == [] and skipped == [alice]
        assert TrainingAssignment.objects.count() == 1

    def test_due_dates_out_of_bounds_and_inactive_modules_are_refused(self, module, alice, bob):
        for day in (
            timezone.localdate() - timedelta(days=3),
            timezone.localdate().replace(year=2030),
        ):
            with pytest.raises(ValidationError):
                training_assign(agents=[alice], module=module, assigned_by=bob, due_on=day)
        module.active = False
        module.save()
        with pytest.raises(ValidationError, match="inactive"):
            training_assign(agents=[alice], module=module, assigned_by=bob, due_on=None)
        assert not TrainingAssignment.objects.exists()

    def test_an_open_flag_assigns_its_standards_modules_once(self, module, alice, fcr):
        weeks(alice, fcr, "M M")
        flags_derive(scope=FlagScope(agent_ids=(alice.pk,)))
        flag = CoachingFlag.objects.get(agent=alice)
        flags_derive(scope=FlagScope(agent_ids=(alice.pk,)))
        assignment = TrainingAssignment.objects.get()
        assert assignment.flag == flag and assignment.assigned_by is None
        assert assignment.due_on is not None

    def test_a_flag_opened_by_hand_assigns_too(self, module, alice, bob, fcr):
        flag_open_by_hand(agent=alice, standard=fcr, opened_by=bob, note="Listen to calls")
        assert TrainingAssignment.objects.get().module == module


class TestProgressAndQuiz:
    def test_progress_is_saved_lesson_by_lesson_and_only_the_agent_works_it(
        self, assigned, module, alice, bob
    ):
        first = module.lessons.first()
        assignment = lesson_mark_done(assignment=assigned, lesson=first, user=alice.user)
        assert (assignment.status, assignment.progress) == ("in_progress", 33)
        assert lesson_mark_done(assignment=assigned, lesson=first, user=alice.user).progress == 33
        with pytest.raises(ValidationError, match="Only the agent"):
            lesson_mark_done(assignment=assigned, lesson=first, user=bob)

    def test_scoring_wants_exactly_the_right_choices(self, module):
        answers = right_answers(module)
        assert quiz_score(module, answers) == 100.0
        several = module.questions.get(position=2)
        partly = {**answers, several.pk: answers[several.pk][:1]}
        assert quiz_score(module, partly) == 50.0

    def test_attempts_run_out_and_a_pass_completes_once_the_lessons_are_read(
        self, assigned, module, alice, django_capture_on_commit_callbacks
    ):
        wrong = {q.pk: [q.choices.filter(correct=False).first().pk] for q in module.questions.all()}
        attempt = quiz_submit(assignment=assigned, answers=wrong, user=alice.user)
        assert (attempt.number, attempt.score, attempt.passed) == (1, 0.0, False)
        with pytest.raises(ValidationError, match="Answer every question"):
            quiz_submit(assignment=assigned, answers={}, user=alice.user)
        attempt = quiz_submit(assignment=assigned, answers=right_answers(module), user=alice.user)
        assert attempt.passed
        assigned.refresh_from_db()
        assert assigned.status == "in_progress" and assigned.progress == 33
        with pytest.raises(ValidationError, match="passed this quiz already"):
            quiz_submit(assignment=assigned, answers=right_answers(module), user=alice.user)
        with django_capture_on_commit_callbacks(execute=True):
            for lesson in module.lessons.all():
                assignment = lesson_mark_done(assignment=assigned, lesson=lesson, user=alice.user)
        assert assignment.is_completed and assignment.progress == 100
        entry = PointsEntry.objects.get(agent=alice, kind="training_completed")
        assert entry.points == 20 and entry.reference == f"training:{assigned.pk}"
        assert AgentBalance.objects.get(agent=alice).lifetime == 20
        assert training_points_award() == 0  # the catch-up finds nothing left to pay
        with pytest.raises(ValidationError, match="completed this training already"):
            lesson_mark_done(assignment=assigned, lesson=module.lessons.first(), user=alice.user)

    def test_no_attempts_left(self, assigned, module, alice):
        wrong = {q.pk: [q.choices.filter(correct=False).first().pk] for q in module.questions.all()}
        for _ in range(2):
            quiz_submit(assignment=assigned, answers=wrong, user=alice.user)
        with pytest.raises(ValidationError, match="used the 2 attempts"):
            quiz_submit(assignment=assigned, answers=right_answers(module), user=alice.user)

    def test_a_lost_signal_is_paid_by_the_catch_up_and_earns_the_trainings_badge(
        self, assigned, module, alice
    ):
        Badge.objects.create(name="Learner", criterion="trainings", threshold=1, points=5)
        quiz_submit(assignment=assigned, answers=right_answers(module), user=alice.user)
        for lesson in module.lessons.all():
            lesson_mark_done(assignment=assigned, lesson=lesson, user=alice.user)
        # The on-commit signal never ran (the test's transaction is never committed).
        assert not PointsEntry.objects.filter(kind="training_completed").exists()
        assert training_points_award() == 1
        assert training_points_award() == 0
        assert AgentBadge.objects.filter(agent=alice, badge__name="Learner").exists()
        assert AgentBalance.objects.get(agent=alice).lifetime == 25

    def test_the_points_history_links_the_entry_to_its_training(
        self, client, assigned, module, alice
    ):
        quiz_submit(assignment=assigned, answers=right_answers(module), user=alice.user)
        for lesson in module.lessons.all():
            lesson_mark_done(assignment=assigned, lesson=lesson, user=alice.user)
        training_points_award()
        login(client, alice.user)
        body = client.get(reverse("rewards:my-points")).content.decode()
        assert f'href="{reverse("coaching:assignment", args=[assigned.pk])}"' in body


class TestReminders:
    def test_due_soon_then_overdue_each_told_once(self, assigned, alice):
        today = timezone.localdate()
        TrainingAssignment.objects.filter(pk=assigned.pk).update(due_on=today + timedelta(days=1))
        assert training_reminders_send() == 1
        assert training_reminders_send() == 0
        TrainingAssignment.objects.filter(pk=assigned.pk).update(due_on=today - timedelta(days=2))
        assert training_reminders_send() == 1
        assert training_reminders_send() == 0
        assigned.refresh_from_db()
        assert assigned.status == "overdue"
        keys = notices(alice.user)
        assert (
            f"training:{assigned.pk}:due-soon" in keys and f"training:{assigned.pk}:overdue" in keys
        )

    def test_far_due_dates_and_completed_ones_are_left_alone(self, assigned):
        TrainingAssignment.objects.filter(pk=assigned.pk).update(
            due_on=timezone.localdate() + timedelta(days=10)
        )
        assert training_reminders_send() == 0


def page(assignment) -> str:
    return reverse("coaching:assignment", args=[assignment.pk])


class TestPagesPerRole:
    def test_anonymous_is_sent_to_log_in(self, client, assigned):
        for url in (
            page(assigned),
            reverse("coaching:training"),
            reverse("coaching:team-training"),
        ):
            response = client.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"]

    def test_who_sees_an_assignment(self, client, assigned, alice, maria, bob, carol, dave):
        for person, status in ((alice, 200), (bob, 200), (dave, 200), (maria, 404), (carol, 404)):
            login(client, person)
            assert client.get(page(assigned)).status_code == status, person

    def test_the_agent_reads_lesson_by_lesson_on_the_page(self, client, assigned, module, alice):
        login(client, alice)
        body = client.get(page(assigned)).content.decode()
        assert "<strong>Listen</strong>" in body and "Lesson 1" in body
        first = module.lessons.first()
        response = client.post(reverse("coaching:lesson-done", args=[assigned.pk, first.pk]))
        second = module.lessons.get(position=2)
        assert response["Location"] == f"{page(assigned)}?lesson={second.pk}"
        assert assigned.lessons_done.count() == 1

    def test_only_the_agent_writes_progress(self, client, assigned, module, bob, maria):
        first = module.lessons.first()
        for person in (bob, maria):
            login(client, person)
            url = reverse("coaching:lesson-done", args=[assigned.pk, first.pk])
            assert client.post(url).status_code == 404
            assert client.post(reverse("coaching:quiz", args=[assigned.pk]), {}).status_code == 404
        assert not assigned.lessons_done.exists() and not assigned.attempts.exists()

    def test_a_quiz_posted_incomplete_or_forged_gets_a_message_and_counts_nothing(
        self, client, assigned, module, alice
    ):
        login(client, alice)
        url = reverse("coaching:quiz", args=[assigned.pk])
        response = client.post(url, {})
        assert response.status_code == 400 and "Answer every question" in response.content.decode()
        forged = {f"question-{q.pk}": ["999999"] for q in module.questions.all()}
        response = client.post(url, forged)
        assert response.status_code == 400
        assert not assigned.attempts.exists()

    def test_a_lead_assigns_their_agents_only_and_sees_the_team_report(
        self, client, module, alice, paulo, bob
    ):
        login(client, bob)
        response = client.post(
            reverse("coaching:training-assign"), {"module": module.pk, "agents": [paulo.pk]}
        )
        assert response.status_code == 400 and not TrainingAssignment.objects.exists()
        response = client.post(
            reverse("coaching:training-assign"), {"module": module.pk, "agents": [alice.pk]}
        )
        assert response.status_code == 302
        body = client.get(reverse("coaching:team-training")).content.decode()
        assert "First-contact resolution" in body and alice.display_name in body

    def test_agents_have_no_team_training_and_leads_no_module_preview(
        self, client, module, alice, bob, dave
    ):
        login(client, alice)
        assert client.get(reverse("coaching:team-training")).status_code == 404
        assert client.get(reverse("coaching:training-assign")).status_code == 404
        preview = reverse("coaching:module-preview", args=[module.pk])
        login(client, bob)
        assert client.get(preview).status_code == 404
        login(client, dave)
        assert "<strong>Listen</strong>" in client.get(preview).content.decode()


def test_the_team_report_counts_per_module(module, alice, maria, bob, carol):
    from coaching.selectors import team_training_report

    made, _ = training_assign(agents=[alice, maria], module=module, assigned_by=bob, due_on=None)
    by_agent = {assignment.agent_id: assignment for assignment in made}
    done = by_agent[alice.pk]
    quiz_submit(assignment=done, answers=right_answers(module), user=alice.user)
    for lesson in module.lessons.all():
        lesson_mark_done(assignment=done, lesson=lesson, user=alice.user)
    other = by_agent[maria.pk]
    wrong = {q.pk: [q.choices.filter(correct=False).first().pk] for q in module.questions.all()}
    quiz_submit(assignment=other, answers=wrong, user=maria.user)
    TrainingAssignment.objects.filter(pk=other.pk).update(status="overdue")
    [row] = team_training_report(bob)
    assert (row.assigned, row.completed, row.overdue) == (2, 1, 1)
    assert row.completion_rate == 50.0
    assert row.average_score == pytest.approx(50.0)  # best scores 100 and 0
    assert team_training_report(carol) == []
