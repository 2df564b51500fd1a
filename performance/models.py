from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from performance.metrics import METRIC_CHOICES, METRICS, Metric
from performance.periods import PERIOD_CHOICES


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Lisbon)") from None


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA name; periods are computed in this zone.",
    )
    leads = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="led_teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agent"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="agents")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__first_name", "user__last_name", "user__username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.username


class Channel(models.Model):
    """The configurable list of contact channels (phone, email, chat, social, messaging...)."""

    code = models.SlugField(max_length=32, primary_key=True)
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class FeedSource(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    class AgentMatch(models.TextChoices):
        EXTERNAL_ID = "external_id", "External id (per source)"
        USERNAME = "username", "Username"
        EMAIL = "email", "E-mail"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.CSV)
    column_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Source column -> canonical field, e.g. {"ticket_id": "external_id"}.',
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Naive timestamps in this source's feeds are read in this zone.",
    )
    agent_match = models.CharField(
        max_length=16, choices=AgentMatch.choices, default=AgentMatch.EXTERNAL_ID
    )
    create_unknown_agents = models.BooleanField(
        default=False, help_text="Create an agent (in the default team) for an unknown agent key."
    )
    default_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Team of agents created from this source's feeds.",
    )
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    token_hint = models.CharField(max_length=12, blank=True, editable=False)
    token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.create_unknown_agents and not self.default_team_id:
            raise ValidationError({"default_team": "Needed to create unknown agents."})


class AgentExternalId(models.Model):
    """How one feed source names an agent."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="external_ids")
    source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="agent_ids")
    external_id = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="agent_external_id_unique_per_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.slug}:{self.external_id}"


class FeedBatch(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class Via(models.TextChoices):
        CLI = "cli", "Command line"
        API = "api", "API"
        UPLOAD = "upload", "Upload page"
        SEED = "seed", "Demo data"

    source = models.ForeignKey(FeedSource, on_delete=models.PROTECT, related_name="batches")
    format = models.CharField(max_length=8, choices=FeedSource.Format.choices)
    via = models.CharField(max_length=8, choices=Via.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    original_name = models.CharField(max_length=255, blank=True)
    stored_path = models.CharField(
        max_length=500, blank=True, help_text="Relative to FEED_STORAGE_DIR."
    )
    size_bytes = models.BigIntegerField(default=0)
    checksum_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, help_text="Why the file failed as a whole.")
    received_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    bytes_processed = models.BigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    runs = models.PositiveSmallIntegerField(default=0, help_text="Times this batch was processed.")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "feed batches"

    def __str__(self) -> str:
        return f"Batch {self.pk} ({self.source.slug}, {self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status in (self.Status.COMPLETED, self.Status.FAILED):
            return 100
        if not self.size_bytes:
            return 0
        return min(99, int(100 * self.bytes_processed / self.size_bytes))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class FeedRowError(models.Model):
    """Why one row of a batch was rejected: one record per (line, field) problem."""

    batch = models.ForeignKey(FeedBatch, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=500)
    raw = models.TextField(blank=True, help_text="The row as received.")

    class Meta:
        ordering = ["batch", "line", "id"]
        indexes = [models.Index(fields=["batch", "line"], name="feed_row_error_batch_line")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.field} {self.reason}"


class FeedBatchTouch(models.Model):
    """An (agent, local date) a batch created or changed facts on: the periods to re-score."""

    batch = models.ForeignKey(FeedBatch, on_delete=models.CASCADE, related_name="touches")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "agent", "local_date"], name="feed_batch_touch_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} on {self.local_date}"


class Interaction(models.Model):
    """One contact handled by one agent on one channel (the facts table)."""

    # Indexes are limited to the unique key and (agent, started_at): both lead with a FK.
    # No database FK constraints on this table: PostgreSQL checks them row by row, which
    # more than doubled the cost of loading a feed. Only the ingest service writes facts,
    # with agent ids it has just read, and PROTECT still guards deletes made through Django.
    source = models.ForeignKey(
        FeedSource,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    external_id = models.CharField(max_length=128)
    agent = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,
        db_constraint=False,
    )
    channel = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    handle_seconds = models.FloatField(null=True, blank=True)
    first_response_seconds = models.FloatField(null=True, blank=True)
    wait_seconds = models.FloatField(null=True, blank=True)
    case_id = models.CharField(max_length=128, blank=True)
    resolved = models.BooleanField(null=True, blank=True)
    first_contact_resolution = models.BooleanField(null=True, blank=True)
    transferred = models.BooleanField(null=True, blank=True)
    escalated = models.BooleanField(null=True, blank=True)
    abandoned = models.BooleanField(null=True, blank=True)
    csat = models.SmallIntegerField(null=True, blank=True)
    nps = models.SmallIntegerField(null=True, blank=True)
    ces = models.SmallIntegerField(null=True, blank=True)
    qa_score = models.FloatField(null=True, blank=True)
    batch = models.ForeignKey(
        FeedBatch,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
        help_text="The batch that last created or changed this fact.",
    )
    row_digest = models.BinaryField(
        max_length=16,
        null=True,
        blank=True,
        editable=False,
        help_text="Digest of the feed row that last set this fact and of how it was read: "
        "the same row sent again is recognised as unchanged without being validated.",
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="interaction_unique_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "started_at"], name="interaction_agent_started"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"


RULE_FIELDS = (
    "target",
    "stretch_target",
    "threshold_seconds",
    "min_sample",
    "points_met",
    "points_exceeded",
    "quality_gate_id",
    "coaching_missed",
    "coaching_window",
)


class ServiceStandard(models.Model):
    """What good looks like for one metric: configured by admins, versioned on rule edits."""

    name = models.CharField(max_length=100)
    metric = models.CharField(max_length=32, choices=METRIC_CHOICES)
    channel = models.CharField(
        max_length=32, blank=True, help_text="Only this channel's interactions; blank for all."
    )
    teams = models.ManyToManyField(
        Team, blank=True, related_name="standards", help_text="Blank for every team."
    )
    period = models.CharField(max_length=8, choices=PERIOD_CHOICES, default="week")
    active_from = models.DateField(help_text="First day this standard applies.")
    active_until = models.DateField(null=True, blank=True, help_text="Last day; blank: open.")
    target = models.FloatField()
    stretch_target = models.FloatField(
        null=True, blank=True, help_text="Beyond the target in the metric's direction: exceeded."
    )
    threshold_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Service level only: first responses within this count."
    )
    min_sample = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="Below this many data points the period is 'insufficient data'.",
    )
    points_met = models.PositiveIntegerField(default=10)
    points_exceeded = models.PositiveIntegerField(default=20)
    quality_gate = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gated_standards",
        help_text="Another standard (same period) that must be met for this one to earn points.",
    )
    coaching_missed = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1)], help_text="Coaching rule: missed in K ..."
    )
    coaching_window = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="... of the last N periods."
    )
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def metric_definition(self) -> Metric:
        return METRICS[self.metric]

    def rule(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in RULE_FIELDS}

    def clean(self) -> None:
        errors: dict[str, str] = {}
        metric = METRICS.get(self.metric)
        if (
            metric
            and self.stretch_target is not None
            and self.target is not None
            and not metric.is_beyond(self.stretch_target, self.target)
        ):
            side = "above" if metric.direction == "higher" else "below"
            errors["stretch_target"] = (
                f"{metric.label} is better when {metric.direction}: the stretch target must be "
                f"{side} the target ({self.target:g})."
            )
        if metric and metric.needs_threshold and not self.threshold_seconds:
            errors["threshold_seconds"] = "A service-level standard needs a threshold in seconds."
        if self.quality_gate_id:
            if self.pk and self.quality_gate_id == self.pk:
                errors["quality_gate"] = "A standard cannot gate itself."
            elif self.quality_gate.period != self.period:
                errors["quality_gate"] = (
                    f"The gate must use the same period ({self.get_period_display().lower()})."
                )
            elif self.pk and _gate_chain_reaches(self.quality_gate, self.pk):
                errors["quality_gate"] = "Gates cannot form a loop."
        if self.active_until and self.active_from and self.active_until < self.active_from:
            errors["active_until"] = "Ends before it starts."
        if (
            self.coaching_missed
            and self.coaching_window
            and self.coaching_missed > self.coaching_window
        ):
            errors["coaching_missed"] = "K cannot exceed N (missed in K of the last N periods)."
        if errors:
            raise ValidationError(errors)


def _gate_chain_reaches(gate: ServiceStandard, standard_id: int) -> bool:
    seen = set()
    while gate is not None and gate.pk not in seen:
        if gate.pk == standard_id:
            return True
        seen.add(gate.pk)
        gate = gate.quality_gate
    return False


class StandardVersion(models.Model):
    """An immutable snapshot of a standard's rule; applies to periods starting on or after
    `effective_from` until a later version takes over."""

    standard = models.ForeignKey(ServiceStandard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    effective_from = models.DateField()
    target = models.FloatField()
    stretch_target = models.FloatField(null=True, blank=True)
    threshold_seconds = models.PositiveIntegerField(null=True, blank=True)
    min_sample = models.PositiveIntegerField()
    points_met = models.PositiveIntegerField()
    points_exceeded = models.PositiveIntegerField()
    quality_gate = models.ForeignKey(
        ServiceStandard, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    coaching_missed = models.PositiveSmallIntegerField()
    coaching_window = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["standard", "number"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "number"], name="standard_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.standard.name} v{self.number}"


class Evaluation(models.Model):
    """One agent x standard x period judgement: a pure function of facts, rule and period."""

    class Outcome(models.TextChoices):
        EXCEEDED = "exceeded", "Exceeded"
        MET = "met", "Met"
        MISSED = "missed", "Missed"
        INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"

    # No database FK constraints, as on Interaction: PostgreSQL checks them row by row at
    # commit, which cost more than writing the rows when a month is scored (1.5M rows).
    # Only the engine writes evaluations, with ids it has just read; Django's on_delete
    # (CASCADE, PROTECT) still applies to deletes made through the ORM.
    agent = models.ForeignKey(
        Agent,
        on_delete=models.CASCADE,
        related_name="evaluations",
        db_index=False,
        db_constraint=False,
    )
    standard = models.ForeignKey(
        ServiceStandard,
        on_delete=models.CASCADE,
        related_name="evaluations",
        db_index=False,
        db_constraint=False,
    )
    version = models.ForeignKey(
        StandardVersion,
        on_delete=models.PROTECT,
        related_name="evaluations",
        db_index=False,
        db_constraint=False,
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="Exclusive.")
    value = models.FloatField(null=True, blank=True)
    sample_size = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    gate_passed = models.BooleanField(
        null=True, blank=True, help_text="Whether the quality gate was met; blank: no gate."
    )
    points = models.IntegerField(default=0, help_text="Points this judgement earns.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["period_start", "standard_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "standard", "period_start"], name="evaluation_unique_period"
            ),
        ]
        indexes = [
            models.Index(fields=["standard", "period_start"], name="evaluation_standard_period"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.standard_id} {self.period_start}: {self.outcome}"

    @property
    def earns(self) -> bool:
        return self.points > 0
