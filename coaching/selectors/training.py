"""Reads of training: who may see an assignment, an agent's training by status, one
assignment with its lessons, quiz and attempts, and a lead's team report per module."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from coaching.models import Lesson, Question, TrainingAssignment, TrainingModule
from performance.access import agents_visible_to, teams_led_by


def assignments_visible_to(user: AbstractBaseUser) -> QuerySet[TrainingAssignment]:
    return TrainingAssignment.objects.select_related(
        "agent__user", "agent__team", "module", "assigned_by", "flag__standard"
    ).filter(agent__in=agents_visible_to(user).values("pk"))


def assignment_for_user_or_404(user: AbstractBaseUser, assignment_id: int) -> TrainingAssignment:
    try:
        return assignments_visible_to(user).get(pk=assignment_id)
    except TrainingAssignment.DoesNotExist:
        raise Http404(gettext("No such training assignment")) from None


@dataclass(frozen=True)
class AgentTraining:
    to_do: list[TrainingAssignment]
    completed: list[TrainingAssignment]


def agent_training(agent) -> AgentTraining:
    """Overdue first, then by due date; completed ones latest first (three queries)."""
    rows = TrainingAssignment.objects.select_related("module").filter(agent=agent)
    to_do = sorted(
        rows.exclude(status=TrainingAssignment.Status.COMPLETED),
        key=lambda row: (row.status != "overdue", row.due_on is None, row.due_on, row.pk),
    )
    completed = list(
        rows.filter(status=TrainingAssignment.Status.COMPLETED).order_by("-completed_at")[:20]
    )
    return AgentTraining(to_do=to_do, completed=completed)


@dataclass(frozen=True)
class AssignmentView:
    assignment: TrainingAssignment
    lessons: list[Lesson]
    done: set[int]
    questions: list[Question]
    attempts: list
    attempts_left: int
    passed: bool

    @property
    def next_lesson(self) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.pk not in self.done), None)

    @property
    def quiz_open(self) -> bool:
        return (
            bool(self.questions)
            and not self.passed
            and self.attempts_left > 0
            and not self.assignment.is_completed
        )


def assignment_view(assignment: TrainingAssignment) -> AssignmentView:
    module = assignment.module
    lessons = list(module.lessons.all())
    questions = list(module.questions.prefetch_related("choices"))
    attempts = list(assignment.attempts.all())
    return AssignmentView(
        assignment=assignment,
        lessons=lessons,
        done=set(assignment.lessons_done.values_list("lesson_id", flat=True)),
        questions=questions,
        attempts=attempts,
        attempts_left=max(0, module.attempts_allowed - len(attempts)),
        passed=any(attempt.passed for attempt in attempts),
    )


@dataclass(frozen=True)
class ModuleReport:
    module: TrainingModule
    assigned: int
    completed: int
    overdue: int
    average_score: float | None

    @property
    def completion_rate(self) -> float:
        return 100 * self.completed / self.assigned if self.assigned else 0.0


def team_training_report(user: AbstractBaseUser) -> list[ModuleReport]:
    """Per module, over the assignments of the agents a lead leads (never their own): how
    many, how many completed and overdue, and the average best quiz score (three queries)."""
    assignments = TrainingAssignment.objects.filter(
        agent__team__in=teams_led_by(user), agent__active=True
    ).exclude(agent__user=user)
    totals = {
        row["module"]: row
        for row in assignments.values("module").annotate(
            assigned=Count("id"),
            completed=Count("id", filter=Q(status=TrainingAssignment.Status.COMPLETED)),
            overdue=Count("id", filter=Q(status=TrainingAssignment.Status.OVERDUE)),
        )
    }
    scores: dict[int, list[float]] = {}
    for module_id, score in (
        assignments.filter(attempts__isnull=False)
        .values("module", "pk")
        .annotate(best=Max("attempts__score"))
        .values_list("module", "best")
    ):
        scores.setdefault(module_id, []).append(score)
    modules = TrainingModule.objects.filter(pk__in=list(totals)).order_by("title")
    return [
        ModuleReport(
            module=module,
            assigned=totals[module.pk]["assigned"],
            completed=totals[module.pk]["completed"],
            overdue=totals[module.pk]["overdue"],
            average_score=(
                sum(scores[module.pk]) / len(scores[module.pk]) if module.pk in scores else None
            ),
        )
        for module in modules
    ]


def team_assignments(user: AbstractBaseUser) -> QuerySet[TrainingAssignment]:
    """A lead's agents' open assignments, overdue first then by due date."""
    return (
        assignments_visible_to(user)
        .filter(agent__team__in=teams_led_by(user))
        .exclude(agent__user=user)
        .exclude(status=TrainingAssignment.Status.COMPLETED)
        .order_by("-status", "due_on", "id")
    )
