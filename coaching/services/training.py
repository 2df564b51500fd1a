"""Training: assigning modules (by a lead, or by a flag on a linked standard, once), saving an
agent's progress lesson by lesson, scoring quiz attempts, completing an assignment (which
sends `training_completed` after commit), and beat's overdue marks and reminders, each once.

Progress is the share of its steps done: each lesson, and the quiz (passed) when the module
has one. An assignment completes when every step is done."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from coaching.models import (
    CoachingFlag,
    Lesson,
    LessonDone,
    QuizAttempt,
    TrainingAssignment,
    TrainingModule,
)
from coaching.signals import training_completed
from performance.models import Agent
from performance.selectors import local_today_resolver
from performance.services.notifications import Notice, notices_send

# Days an assignment made by a flag has; reminders go this many days before the due date.
FLAG_ASSIGNMENT_DAYS = 14
REMINDER_DAYS_BEFORE = 2
MAX_DAYS_AHEAD = 366

OPEN_STATUSES = (
    TrainingAssignment.Status.ASSIGNED,
    TrainingAssignment.Status.IN_PROGRESS,
    TrainingAssignment.Status.OVERDUE,
)


def _today(agent: Agent) -> date:
    return local_today_resolver([agent.pk])(agent.pk, timezone.localdate())


def _url(assignment: TrainingAssignment) -> str:
    return reverse("coaching:assignment", args=[assignment.pk])


def _tell(assignment: TrainingAssignment, key: str, message) -> None:
    transaction.on_commit(
        lambda: notices_send(
            [
                Notice(
                    user_id=assignment.agent.user_id,
                    key=f"training:{assignment.pk}:{key}",
                    kind="training",
                    message=message,
                    url=_url(assignment),
                )
            ]
        )
    )


def _create(
    *,
    agent: Agent,
    module: TrainingModule,
    due_on: date | None,
    assigned_by: AbstractBaseUser | None = None,
    flag: CoachingFlag | None = None,
) -> TrainingAssignment | None:
    """The assignment, or None when the agent already has one of this module open (or the
    flag assigned it before)."""
    try:
        with transaction.atomic():
            assignment = TrainingAssignment.objects.create(
                agent=agent, module=module, due_on=due_on, assigned_by=assigned_by, flag=flag
            )
    except IntegrityError:
        return None
    title = module.title
    _tell(
        assignment,
        "assigned",
        lambda: (
            _("New training for you: %(module)s, due %(day)s.")
            % {"module": title, "day": formats.date_format(due_on, "SHORT_DATE_FORMAT")}
            if due_on
            else _("New training for you: %(module)s.") % {"module": title}
        ),
    )
    return assignment


def training_assign(
    *,
    agents: Sequence[Agent],
    module: TrainingModule,
    assigned_by: AbstractBaseUser,
    due_on: date | None,
) -> tuple[list[TrainingAssignment], list[Agent]]:
    """Assign a module to agents; returns the new assignments and the agents who already
    had it open (left as they are)."""
    if not module.active:
        raise ValidationError({"module": _("This module is inactive.")})
    if not agents:
        raise ValidationError({"agents": _("Choose at least one agent.")})
    if due_on is not None:
        earliest = min(_today(agent) for agent in agents)
        if not earliest <= due_on <= earliest + timedelta(days=MAX_DAYS_AHEAD):
            raise ValidationError({"due_on": _("Give a due date from today to a year ahead.")})
    made, skipped = [], []
    with transaction.atomic():
        for agent in agents:
            assignment = _create(agent=agent, module=module, due_on=due_on, assigned_by=assigned_by)
            (made if assignment else skipped).append(assignment or agent)
    return made, skipped


def training_assign_for_misses(
    *, agent: Agent, modules: Iterable[TrainingModule], assigned_by: AbstractBaseUser
) -> int:
    """The modules a QA review assigns for an item the agent keeps missing (the form says to
    assign, not only suggest); an agent with the module open keeps that one. Returns how
    many it made."""
    due_on = _today(agent) + timedelta(days=FLAG_ASSIGNMENT_DAYS)
    return sum(
        _create(agent=agent, module=module, due_on=due_on, assigned_by=assigned_by) is not None
        for module in modules
        if module.active
    )


def training_assign_for_flags(flags: Iterable[CoachingFlag]) -> int:
    """An open flag assigns the active modules linked to its standard, once per flag (an
    agent who has the module open already keeps that one). Returns how many it made."""
    made = 0
    flags = [flag for flag in flags if flag.is_open]
    if not flags:
        return 0
    modules: dict[int, list[TrainingModule]] = {}
    for module in TrainingModule.objects.filter(
        active=True, standards__in={flag.standard_id for flag in flags}
    ).prefetch_related("standards"):
        for standard in module.standards.all():
            modules.setdefault(standard.pk, []).append(module)
    for flag in flags:
        for module in modules.get(flag.standard_id, []):
            agent = Agent.objects.select_related("team", "user").get(pk=flag.agent_id)
            due_on = _today(agent) + timedelta(days=FLAG_ASSIGNMENT_DAYS)
            if _create(agent=agent, module=module, due_on=due_on, flag=flag):
                made += 1
    return made


def _steps(assignment: TrainingAssignment) -> tuple[int, int, bool]:
    """(steps done, steps in all, quiz passed)."""
    lessons = Lesson.objects.filter(module_id=assignment.module_id).count()
    done = LessonDone.objects.filter(assignment=assignment).count()
    has_quiz = assignment.module.questions.exists()
    passed = has_quiz and assignment.attempts.filter(passed=True).exists()
    return done + int(passed), lessons + int(has_quiz), passed


def _update_progress(assignment: TrainingAssignment) -> TrainingAssignment:
    done, total, _passed = _steps(assignment)
    progress = 100 if total == 0 else round(100 * done / total)
    if done >= total:
        return _complete(assignment)
    status = assignment.status
    if status == TrainingAssignment.Status.ASSIGNED and done:
        status = TrainingAssignment.Status.IN_PROGRESS
    TrainingAssignment.objects.filter(pk=assignment.pk).exclude(
        status=TrainingAssignment.Status.COMPLETED
    ).update(progress=progress, status=status, updated_at=timezone.now())
    assignment.refresh_from_db()
    return assignment


def _complete(assignment: TrainingAssignment) -> TrainingAssignment:
    now = timezone.now()
    completed = (
        TrainingAssignment.objects.filter(pk=assignment.pk)
        .exclude(status=TrainingAssignment.Status.COMPLETED)
        .update(
            status=TrainingAssignment.Status.COMPLETED,
            progress=100,
            completed_at=now,
            updated_at=now,
        )
    )
    assignment.refresh_from_db()
    if completed:
        assignment_id = assignment.pk
        transaction.on_commit(
            lambda: training_completed.send(sender=TrainingAssignment, assignment_id=assignment_id)
        )
    return assignment


def _open_for(assignment: TrainingAssignment, user: AbstractBaseUser) -> TrainingAssignment:
    if assignment.agent.user_id != user.pk:
        raise ValidationError(_("Only the agent it is assigned to works through a training."))
    assignment = (
        TrainingAssignment.objects.select_for_update()
        .select_related("module", "agent__user", "agent__team")
        .get(pk=assignment.pk)
    )
    if assignment.is_completed:
        raise ValidationError(_("You have completed this training already."))
    return assignment


def lesson_mark_done(
    *, assignment: TrainingAssignment, lesson: Lesson, user: AbstractBaseUser
) -> TrainingAssignment:
    """The agent has read a lesson: saved at once; marking it again changes nothing."""
    if lesson.module_id != assignment.module_id:
        raise ValidationError(_("That lesson is not part of this training."))
    with transaction.atomic():
        assignment = _open_for(assignment, user)
        LessonDone.objects.get_or_create(assignment=assignment, lesson=lesson)
        return _update_progress(assignment)


def quiz_score(module: TrainingModule, answers: Mapping[int, Iterable[int]]) -> float:
    """0-100: the share of questions answered exactly (every correct choice and no other)."""
    questions = list(module.questions.prefetch_related("choices"))
    if not questions:
        return 100.0
    right = 0
    for question in questions:
        correct = {choice.pk for choice in question.choices.all() if choice.correct}
        if set(answers.get(question.pk, ())) == correct:
            right += 1
    return round(100 * right / len(questions), 1)


def quiz_submit(
    *,
    assignment: TrainingAssignment,
    answers: Mapping[int, Iterable[int]],
    user: AbstractBaseUser,
) -> QuizAttempt:
    """Score an attempt and keep it; passing with every lesson read completes the
    assignment. Refused once the attempts allowed are used up, or after passing."""
    with transaction.atomic():
        assignment = _open_for(assignment, user)
        module = assignment.module
        if not module.questions.exists():
            raise ValidationError(_("This training has no quiz."))
        attempts = assignment.attempts.count()
        if assignment.attempts.filter(passed=True).exists():
            raise ValidationError(_("You have passed this quiz already."))
        if attempts >= module.attempts_allowed:
            raise ValidationError(
                _("You have used the %(count)s attempts this quiz allows: ask your lead.")
                % {"count": module.attempts_allowed}
            )
        valid = {
            question.pk: {choice.pk for choice in question.choices.all()}
            for question in module.questions.prefetch_related("choices")
        }
        unanswered = [pk for pk in valid if not set(answers.get(pk, ()))]
        if unanswered:
            raise ValidationError(_("Answer every question, please."))
        for question_id, chosen in answers.items():
            if question_id not in valid or not set(chosen) <= valid[question_id]:
                raise ValidationError(_("That answer is not one of the question's choices."))
        score = quiz_score(module, answers)
        attempt = QuizAttempt.objects.create(
            assignment=assignment,
            number=attempts + 1,
            score=score,
            passed=score >= module.pass_mark,
            answers={str(pk): sorted(set(chosen)) for pk, chosen in answers.items()},
        )
        _update_progress(assignment)
    return attempt


def training_reminders_send() -> int:
    """Beat, hourly: an open assignment whose due date has passed (in the agent's zone)
    becomes overdue, and its agent is told once; one due within REMINDER_DAYS_BEFORE days
    is reminded once. Returns how many notices were new."""
    assignments = list(
        TrainingAssignment.objects.select_related("agent__user", "agent__team", "module").filter(
            status__in=OPEN_STATUSES, due_on__isnull=False
        )
    )
    today = local_today_resolver({assignment.agent_id for assignment in assignments})
    notices = []
    for assignment in assignments:
        local_today = today(assignment.agent_id, timezone.localdate())
        title = assignment.module.title
        due = assignment.due_on
        if due < local_today:
            TrainingAssignment.objects.filter(
                pk=assignment.pk, status__in=OPEN_STATUSES[:2]
            ).update(status=TrainingAssignment.Status.OVERDUE, updated_at=timezone.now())
            notices.append(
                Notice(
                    user_id=assignment.agent.user_id,
                    key=f"training:{assignment.pk}:overdue",
                    kind="training",
                    message=lambda title=title, due=due: (
                        _("Training overdue: %(module)s was due %(day)s.")
                        % {"module": title, "day": formats.date_format(due, "SHORT_DATE_FORMAT")}
                    ),
                    url=_url(assignment),
                )
            )
        elif (due - local_today).days <= REMINDER_DAYS_BEFORE:
            notices.append(
                Notice(
                    user_id=assignment.agent.user_id,
                    key=f"training:{assignment.pk}:due-soon",
                    kind="training",
                    message=lambda title=title, due=due: (
                        _("Reminder: finish the training %(module)s by %(day)s.")
                        % {"module": title, "day": formats.date_format(due, "SHORT_DATE_FORMAT")}
                    ),
                    url=_url(assignment),
                )
            )
    return notices_send(notices)
