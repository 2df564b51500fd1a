"""Training: modules of ordered Markdown lessons and an optional quiz, assigned to agents (by
a lead, or by a flag on a linked standard), with progress saved as the agent goes."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coaching.models.flags import CoachingFlag
from performance.models import Agent, ServiceStandard

MAX_TRAINING_POINTS = 10_000


class TrainingModule(models.Model):
    title = models.CharField(max_length=200, verbose_name=_("title"))
    summary = models.TextField(blank=True, verbose_name=_("summary"))
    estimated_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MaxValueValidator(600)], verbose_name=_("estimated minutes")
    )
    standards = models.ManyToManyField(
        ServiceStandard,
        blank=True,
        related_name="+",
        help_text=_("A flag opening on one of these assigns the module to its agent, once."),
        verbose_name=_("linked standards"),
    )
    pass_mark = models.PositiveSmallIntegerField(
        default=70,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("The quiz score (0-100) that passes."),
        verbose_name=_("pass mark"),
    )
    attempts_allowed = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        verbose_name=_("quiz attempts allowed"),
    )
    points = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TRAINING_POINTS)],
        help_text=_("Points an agent earns on completing it (they count for training badges)."),
        verbose_name=_("points"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["title"]
        verbose_name = _("training module")
        verbose_name_plural = _("training modules")
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_mark__gte=1) & Q(pass_mark__lte=100),
                name="training_module_pass_mark_bounded",
            ),
            models.CheckConstraint(
                condition=Q(points__gte=1) & Q(points__lte=MAX_TRAINING_POINTS),
                name="training_module_points_bounded",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    module = models.ForeignKey(
        TrainingModule, on_delete=models.CASCADE, related_name="lessons", verbose_name=_("module")
    )
    position = models.PositiveSmallIntegerField(default=1, verbose_name=_("position"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(
        help_text=_("Markdown; HTML is shown as text, links only to http(s) and e-mail."),
        verbose_name=_("body"),
    )

    class Meta:
        ordering = ["module", "position", "id"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    module = models.ForeignKey(
        TrainingModule,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("module"),
    )
    position = models.PositiveSmallIntegerField(default=1, verbose_name=_("position"))
    text = models.CharField(max_length=500, verbose_name=_("question"))

    class Meta:
        ordering = ["module", "position", "id"]
        verbose_name = _("quiz question")
        verbose_name_plural = _("quiz questions")

    def __str__(self) -> str:
        return self.text

    @property
    def multiple(self) -> bool:
        """Whether more than one choice is right ("tick all that apply"); uses the choices
        as fetched (prefetch them)."""
        return sum(1 for choice in self.choices.all() if choice.correct) > 1


class Choice(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question")
    )
    text = models.CharField(max_length=300, verbose_name=_("choice"))
    correct = models.BooleanField(default=False, verbose_name=_("correct"))

    class Meta:
        ordering = ["question", "id"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")

    def __str__(self) -> str:
        return self.text


class TrainingAssignment(models.Model):
    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        OVERDUE = "overdue", _("Overdue")
        COMPLETED = "completed", _("Completed")

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="training", verbose_name=_("agent")
    )
    module = models.ForeignKey(
        TrainingModule,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("module"),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Blank: a coaching flag assigned it."),
        verbose_name=_("assigned by"),
    )
    flag = models.ForeignKey(
        CoachingFlag,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training",
        verbose_name=_("flag"),
    )
    due_on = models.DateField(null=True, blank=True, verbose_name=_("due on"))
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.ASSIGNED, verbose_name=_("status")
    )
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress (%)"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("assigned at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("training assignment")
        verbose_name_plural = _("training assignments")
        constraints = [
            # Assigned again only once the last one is completed.
            models.UniqueConstraint(
                fields=["agent", "module"],
                condition=~Q(status="completed"),
                name="training_assignment_one_open",
            ),
            # A flag assigns each of its standard's modules once.
            models.UniqueConstraint(
                fields=["flag", "module"],
                condition=Q(flag__isnull=False),
                name="training_assignment_once_per_flag",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="training_assignment_progress_bounded"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(status="completed"),
                name="training_assignment_completed_at_when_completed",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="training_assignment_due")]

    def __str__(self) -> str:
        return f"{self.module} for {self.agent_id}"

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED


class LessonDone(models.Model):
    """A lesson an agent has read, saved as they go (survives a closed browser)."""

    assignment = models.ForeignKey(
        TrainingAssignment,
        on_delete=models.CASCADE,
        related_name="lessons_done",
        verbose_name=_("assignment"),
    )
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="+", verbose_name=_("lesson")
    )
    done_at = models.DateTimeField(auto_now_add=True, verbose_name=_("done at"))

    class Meta:
        verbose_name = _("lesson done")
        verbose_name_plural = _("lessons done")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "lesson"], name="lesson_done_once")
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}: lesson {self.lesson_id}"


class QuizAttempt(models.Model):
    assignment = models.ForeignKey(
        TrainingAssignment,
        on_delete=models.CASCADE,
        related_name="attempts",
        verbose_name=_("assignment"),
    )
    number = models.PositiveSmallIntegerField(verbose_name=_("attempt"))
    score = models.FloatField(verbose_name=_("score"))
    passed = models.BooleanField(verbose_name=_("passed"))
    answers = models.JSONField(help_text=_("Question id -> chosen choice ids."))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("taken at"))

    class Meta:
        ordering = ["assignment", "number"]
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "number"], name="quiz_attempt_once")
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}: attempt {self.number} ({self.score})"
