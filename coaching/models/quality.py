"""Quality monitoring (monitoria): the QA forms analysts score interactions on. A form's
sections and items are edited in admin; the first review on a changed form freezes what it
scored into a new version (QAFormVersion), so a review always keeps the items it was scored
on, however the form changes later."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from performance.models import Agent, Channel, FeedBatch, Interaction, Team


class QAForm(models.Model):
    class Kind(models.TextChoices):
        MONITORING = "monitoring", _("Quality monitoring")
        MYSTERY = "mystery", _("Mystery shopping")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    kind = models.CharField(
        max_length=12,
        choices=Kind.choices,
        default=Kind.MONITORING,
        help_text=_(
            "Mystery shopping: reviews of mystery shoppers' contacts, whose scores go to the "
            "interaction's mystery-shopper score (reported apart, with a standard of their own "
            "if you set one up) instead of its QA score."
        ),
        verbose_name=_("kind"),
    )
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the form serves every channel."),
        verbose_name=_("channel"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    dispute_days = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(90)],
        help_text=_(
            "Days the agent has to contest a finished review (and again after each decision); "
            "0: its reviews cannot be contested."
        ),
        verbose_name=_("dispute window (days)"),
    )
    training_misses = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_(
            "An item missed in this many of the agent's latest reviews on this form suggests "
            "the training modules linked to it."
        ),
        verbose_name=_("misses that suggest training"),
    )
    training_window = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("How many of the agent's latest reviews on this form are looked at."),
        verbose_name=_("latest reviews looked at"),
    )
    training_auto_assign = models.BooleanField(
        default=False,
        help_text=_("Assign the suggested modules at once instead of suggesting them."),
        verbose_name=_("assign suggested training"),
    )
    dispute_rounds = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("How many times one review may be contested."),
        verbose_name=_("dispute rounds"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("QA form")
        verbose_name_plural = _("QA forms")

    def __str__(self) -> str:
        return self.name


class QASection(models.Model):
    form = models.ForeignKey(
        QAForm, on_delete=models.CASCADE, related_name="sections", verbose_name=_("form")
    )
    title = models.CharField(max_length=120, verbose_name=_("title"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("QA form section")
        verbose_name_plural = _("QA form sections")

    def __str__(self) -> str:
        return f"{self.form} · {self.title}"


class QAItem(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        SCALE = "scale", _("Scale")

    section = models.ForeignKey(
        QASection, on_delete=models.CASCADE, related_name="items", verbose_name=_("section")
    )
    text = models.CharField(max_length=200, verbose_name=_("item"))
    guidance = models.TextField(
        blank=True,
        help_text=_("What the analyst looks for, shown beside the item."),
        verbose_name=_("guidance"),
    )
    kind = models.CharField(
        max_length=8, choices=Kind.choices, default=Kind.YES_NO, verbose_name=_("answer")
    )
    scale_max = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("Scale items: answers go from 0 to this."),
        verbose_name=_("scale maximum"),
    )
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)], verbose_name=_("weight")
    )
    critical = models.BooleanField(
        default=False,
        help_text=_("A “no” sets the whole review to 0 (e.g. data protection, rudeness)."),
        verbose_name=_("critical"),
    )
    bonus = models.BooleanField(
        default=False,
        help_text=_("Adds points on top of the applicable ones; never lowers a score."),
        verbose_name=_("bonus"),
    )
    allows_na = models.BooleanField(
        default=True,
        help_text=_("The analyst may answer “not applicable”: the item then counts for nothing."),
        verbose_name=_("allows N/A"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    training_modules = models.ManyToManyField(
        "coaching.TrainingModule",
        blank=True,
        related_name="qa_items",
        help_text=_("Suggested (or assigned) when an agent keeps missing this item."),
        verbose_name=_("training modules"),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("QA form item")
        verbose_name_plural = _("QA form items")

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        if self.critical and self.kind != self.Kind.YES_NO:
            raise ValidationError({"critical": _("Only a yes / no item can be critical.")})
        if self.critical and self.bonus:
            raise ValidationError({"bonus": _("A critical item cannot also be a bonus.")})


class QAFormVersion(models.Model):
    """A form's sections and items as reviews scored them, frozen (services.quality reads them)."""

    form = models.ForeignKey(
        QAForm, on_delete=models.CASCADE, related_name="versions", verbose_name=_("form")
    )
    number = models.PositiveIntegerField(verbose_name=_("version"))
    structure = models.JSONField(verbose_name=_("sections and items"))
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["form", "-number"]
        verbose_name = _("QA form version")
        verbose_name_plural = _("QA form versions")
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="qa_form_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number}"


class QAReview(models.Model):
    """One analyst's (or lead's) review of one interaction on one form version."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINISHED = "finished", _("Finished")

    interaction = models.ForeignKey(
        Interaction, on_delete=models.PROTECT, related_name="+", verbose_name=_("interaction")
    )
    # The interaction's agent, kept on the review: who may read it follows the agent.
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="qa_reviews", verbose_name=_("agent")
    )
    version = models.ForeignKey(
        QAFormVersion, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("form")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    score = models.FloatField(null=True, blank=True, verbose_name=_("score"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("acknowledged by the agent at")
    )
    # A calibration review: scored blind in a calibration session, never written on the
    # interaction nor shown to the agent.
    calibration = models.ForeignKey(
        "QACalibration",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reviews",
        verbose_name=_("calibration session"),
    )
    # The batch that wrote the score on the interaction (its audit trail), once finished.
    batch = models.ForeignKey(
        FeedBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("score written by batch"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("QA review")
        verbose_name_plural = _("QA reviews")

    def __str__(self) -> str:
        return f"{self.version} · {self.interaction_id}"


class QAAnswer(models.Model):
    """The answer to one item of the review's form version (`key`: the item's key there)."""

    review = models.ForeignKey(
        QAReview, on_delete=models.CASCADE, related_name="answers", verbose_name=_("review")
    )
    key = models.CharField(max_length=32, verbose_name=_("item"))
    answer = models.CharField(max_length=8, verbose_name=_("answer"))  # yes / no / na / 0-10
    comment = models.TextField(blank=True, verbose_name=_("comment"))

    class Meta:
        verbose_name = _("QA answer")
        verbose_name_plural = _("QA answers")
        constraints = [
            models.UniqueConstraint(fields=["review", "key"], name="qa_answer_once_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.answer}"


class QADispute(models.Model):
    """An agent contesting items of a finished review, and the decision on it: accepted (the
    decider changes those answers, so the score and its periods change) or rejected with a
    reason. One open at a time per review; rounds limited by the form's dispute_rounds."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("QA dispute", "Open")
        ACCEPTED = "accepted", pgettext_lazy("QA dispute", "Accepted")
        REJECTED = "rejected", pgettext_lazy("QA dispute", "Rejected")

    review = models.ForeignKey(
        QAReview, on_delete=models.CASCADE, related_name="disputes", verbose_name=_("review")
    )
    round = models.PositiveSmallIntegerField(verbose_name=_("round"))
    # The keys of the contested items in the review's form version.
    items = models.JSONField(verbose_name=_("contested items"))
    comment = models.TextField(verbose_name=_("agent's comment"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(auto_now_add=True, verbose_name=_("opened at"))
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    # What an accepted dispute changed: item key -> [answer before, answer after].
    changes = models.JSONField(default=dict, blank=True, verbose_name=_("answers changed"))
    score_before = models.FloatField(null=True, blank=True, verbose_name=_("score before"))
    score_after = models.FloatField(null=True, blank=True, verbose_name=_("score after"))

    class Meta:
        ordering = ["review", "round"]
        verbose_name = _("QA dispute")
        verbose_name_plural = _("QA disputes")
        constraints = [
            models.UniqueConstraint(fields=["review", "round"], name="qa_dispute_round_once"),
            models.UniqueConstraint(
                fields=["review"],
                condition=models.Q(status="open"),
                name="qa_dispute_one_open_per_review",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review} · {self.round}"


class QAPlan(models.Model):
    """A review plan: each period, so many interactions per agent of its teams, per channel,
    drawn at random from the closed period's facts (never one already reviewed or drawn),
    assigned to its analysts with a due date."""

    class Period(models.TextChoices):
        WEEK = "week", _("ISO week (Monday to Sunday)")
        MONTH = "month", _("Month")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    teams = models.ManyToManyField(Team, related_name="qa_plans", verbose_name=_("teams"))
    period = models.CharField(
        max_length=8, choices=Period.choices, default=Period.WEEK, verbose_name=_("period")
    )
    analysts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="qa_plans",
        help_text=_("Who reviews the drawn interactions; empty: the teams' quality analysts."),
        verbose_name=_("analysts"),
    )
    due_days = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Days after the period ends that its reviews are due."),
        verbose_name=_("due after (days)"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("review plan")
        verbose_name_plural = _("review plans")

    def __str__(self) -> str:
        return self.name


class QAPlanChannel(models.Model):
    """How many interactions per agent and period a plan draws from one channel (its mix)."""

    plan = models.ForeignKey(
        QAPlan, on_delete=models.CASCADE, related_name="channels", verbose_name=_("plan")
    )
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("channel")
    )
    per_agent = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        verbose_name=_("per agent and period"),
    )

    class Meta:
        verbose_name = _("channel of the mix")
        verbose_name_plural = _("channel mix")
        constraints = [
            models.UniqueConstraint(fields=["plan", "channel"], name="qa_plan_channel_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.per_agent}"


class QAAssignment(models.Model):
    """One interaction a plan drew for review, assigned to an analyst, due on a date; done
    once its review is finished. An interaction is drawn once, ever."""

    plan = models.ForeignKey(
        QAPlan, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("plan")
    )
    period_start = models.DateField(verbose_name=_("period start"))
    interaction = models.OneToOneField(
        Interaction, on_delete=models.CASCADE, related_name="+", verbose_name=_("interaction")
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="qa_assignments", verbose_name=_("agent")
    )
    channel = models.CharField(max_length=32, verbose_name=_("channel"))
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="qa_assignments",
        verbose_name=_("analyst"),
    )
    due_on = models.DateField(verbose_name=_("due on"))
    review = models.OneToOneField(
        QAReview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignment",
        verbose_name=_("review"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("review assignment")
        verbose_name_plural = _("review assignments")
        indexes = [
            models.Index(fields=["analyst", "due_on"], name="qa_assignment_analyst_due"),
            models.Index(fields=["plan", "period_start"], name="qa_assignment_plan_period"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.interaction_id}"


class QACalibration(models.Model):
    """Several reviewers score the same interaction blind on one form version; the
    facilitator then records the reference answers agreed, against which each reviewer's
    alignment is measured. Its reviews never count towards the agent's scores."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("calibration session", "Open")
        CLOSED = "closed", pgettext_lazy("calibration session", "Closed")

    title = models.CharField(max_length=120, verbose_name=_("title"))
    interaction = models.ForeignKey(
        Interaction, on_delete=models.PROTECT, related_name="+", verbose_name=_("interaction")
    )
    version = models.ForeignKey(
        QAFormVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("form")
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("facilitator"),
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="qa_calibrations", verbose_name=_("participants")
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    reference = models.OneToOneField(
        QAReview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reference"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")

    def __str__(self) -> str:
        return self.title
