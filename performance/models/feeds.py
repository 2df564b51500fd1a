"""Feeds and facts: sources, agents' ids per source, batches with their rejected rows and
touched days, and the Interaction facts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from performance.feeds import ENCODING_NAMES, FieldError, render_message
from performance.feeds.rows import column_options_from_json
from performance.models.organisation import Agent, Team, validate_time_zone


class FeedSource(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        JSONL = "jsonl", _("JSON Lines")
        XLSX = "xlsx", _("Excel workbook (.xlsx)")

    class Encoding(models.TextChoices):
        AUTOMATIC = "auto", _("Automatic (UTF-8, else Windows-1252)")
        UTF8 = "utf-8", "UTF-8"
        WINDOWS_1252 = "windows-1252", _("Windows-1252 (Excel in Brazil and Portugal)")
        ISO_8859_1 = "iso-8859-1", "ISO-8859-1 (Latin-1)"

    class DateOrder(models.TextChoices):
        ISO = "iso", _("ISO 8601 only (2026-10-29 11:42)")
        DAY_FIRST = "day_first", _("Day first (29/10/2026 11:42), and ISO 8601")

    class AgentMatch(models.TextChoices):
        EXTERNAL_ID = "external_id", _("External id (per source)")
        USERNAME = "username", _("Username")
        EMAIL = "email", _("E-mail")

    name = models.CharField(max_length=100, verbose_name=_("name"))
    slug = models.SlugField(max_length=50, unique=True, verbose_name=_("slug"))
    format = models.CharField(
        max_length=8, choices=Format.choices, default=Format.CSV, verbose_name=_("format")
    )
    column_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Source column -> canonical field, e.g. {"ticket_id": "external_id"}.'),
        verbose_name=_("column mapping"),
    )
    column_options = models.JSONField(
        _("column options"),
        default=dict,
        blank=True,
        help_text=_(
            "Per canonical field: the unit of a numeric duration and words that stand for "
            'values, e.g. {"handle_seconds": {"unit": "minutes"}, '
            '"csat": {"values": {"Bom": 5, "Ruim": 1}}}.'
        ),
    )
    encoding = models.CharField(
        _("encoding"),
        max_length=16,
        choices=Encoding.choices,
        default=Encoding.AUTOMATIC,
        help_text=_("How the bytes of CSV and JSON Lines files are read as text."),
    )
    date_order = models.CharField(
        _("date order"),
        max_length=12,
        choices=DateOrder.choices,
        default=DateOrder.ISO,
        help_text=_("Whether dates are also written day first (never guessed per row)."),
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("Naive timestamps in this source's feeds are read in this zone."),
        verbose_name=_("time zone"),
    )
    agent_match = models.CharField(
        max_length=16,
        choices=AgentMatch.choices,
        default=AgentMatch.EXTERNAL_ID,
        verbose_name=_("match agents by"),
    )
    create_unknown_agents = models.BooleanField(
        default=False,
        help_text=_("Create an agent (in the default team) for an unknown agent key."),
        verbose_name=_("create unknown agents"),
    )
    default_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Team of agents created from this source's feeds."),
        verbose_name=_("default team"),
    )
    token_hash = models.CharField(
        max_length=64, blank=True, editable=False, verbose_name=_("token hash")
    )
    token_hint = models.CharField(
        max_length=12, blank=True, editable=False, verbose_name=_("token hint")
    )
    token_rotated_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("token rotated at")
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    upload_teams = models.ManyToManyField(
        Team,
        blank=True,
        related_name="+",
        help_text=_(
            "The leads of these teams may upload this source's files on the upload page, and "
            "those files create or change facts of their own teams' agents only. Admins upload "
            "to every active source; the API token and the command line are not limited by it."
        ),
        verbose_name=_("teams whose leads may upload"),
    )

    class Meta:
        verbose_name = _("feed source")
        verbose_name_plural = _("feed sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.create_unknown_agents and not self.default_team_id:
            raise ValidationError({"default_team": _("Needed to create unknown agents.")})
        try:
            column_options_from_json(self.column_options)
        except FieldError as exc:
            raise ValidationError({"column_options": exc.message.translated()}) from None
        mapping = self.column_mapping
        if not isinstance(mapping, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
        ):
            raise ValidationError(
                {
                    "column_mapping": _(
                        'Map column names to field names, e.g. {"TMA": "handle_seconds"}.'
                    )
                }
            )


class AgentExternalId(models.Model):
    """How one feed source names an agent."""

    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="external_ids", verbose_name=_("agent")
    )
    source = models.ForeignKey(
        FeedSource, on_delete=models.CASCADE, related_name="agent_ids", verbose_name=_("source")
    )
    external_id = models.CharField(max_length=128, verbose_name=_("external id"))

    class Meta:
        verbose_name = _("agent external id")
        verbose_name_plural = _("agent external ids")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="agent_external_id_unique_per_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.slug}:{self.external_id}"


class FeedBatch(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSING = "processing", _("Processing")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    class Via(models.TextChoices):
        CLI = "cli", _("Command line")
        API = "api", _("API")
        UPLOAD = "upload", _("Upload page")
        SEED = "seed", _("Demo data")
        # A finished QA review setting its interaction's score (coaching's monitoria).
        REVIEW = "review", _("QA review")

    source = models.ForeignKey(
        FeedSource, on_delete=models.PROTECT, related_name="batches", verbose_name=_("source")
    )
    format = models.CharField(
        max_length=8, choices=FeedSource.Format.choices, verbose_name=_("format")
    )
    via = models.CharField(max_length=8, choices=Via.choices, verbose_name=_("received via"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    original_name = models.CharField(max_length=255, blank=True, verbose_name=_("original name"))
    encoding = models.CharField(
        _("encoding"),
        max_length=16,
        blank=True,
        help_text=_("The encoding the file was read in (empty for a workbook)."),
    )
    stored_path = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Relative to FEED_STORAGE_DIR."),
        verbose_name=_("stored path"),
    )
    size_bytes = models.BigIntegerField(default=0, verbose_name=_("size (bytes)"))
    checksum_sha256 = models.CharField(
        max_length=64, blank=True, verbose_name=_("SHA-256 checksum")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.RECEIVED, verbose_name=_("status")
    )
    error = models.TextField(
        blank=True, help_text=_("Why the file failed as a whole."), verbose_name=_("error")
    )
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    bytes_processed = models.BigIntegerField(default=0, verbose_name=_("bytes processed"))
    rows_read = models.PositiveIntegerField(default=0, verbose_name=_("rows read"))
    created_count = models.PositiveIntegerField(default=0, verbose_name=_("created"))
    updated_count = models.PositiveIntegerField(default=0, verbose_name=_("updated"))
    unchanged_count = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    rejected_count = models.PositiveIntegerField(default=0, verbose_name=_("rejected"))
    qa_kept_aside_count = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "Rows whose qa_score was kept aside because the interaction was reviewed in Atendo "
            "(the review's score wins)."
        ),
        verbose_name=_("QA scores kept aside"),
    )
    runs = models.PositiveSmallIntegerField(
        default=0, help_text=_("Times this batch was processed."), verbose_name=_("runs")
    )
    token_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text=_(
            "The hash of the source's API token that sent this batch (empty when a person, the "
            "command line or the demo sent it): a token reads only the batches it sent."
        ),
        verbose_name=_("sent with token"),
    )
    # The lease of the run processing the batch (the run is `runs`): renewed with every chunk
    # it commits; a batch processing with an older heartbeat than the lease lost its worker.
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the run processing the batch last showed it was alive."),
        verbose_name=_("last heartbeat"),
    )
    stalled_runs = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Runs in a row that died after the batch's last committed chunk."),
        verbose_name=_("stalled runs"),
    )
    # The error as a message id and its parameters, shown in the reader's language.
    error_message = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return _("Batch %(id)s (%(source)s, %(status)s)") % {
            "id": self.pk,
            "source": self.source.slug,
            "status": self.get_status_display(),
        }

    @staticmethod
    def lease_expired_before(now: datetime | None = None) -> datetime:
        """Runs whose last heartbeat is older than this have died (FEED_BATCH_LEASE_SECONDS)."""
        return (now or timezone.now()) - timedelta(seconds=settings.FEED_BATCH_LEASE_SECONDS)

    @classmethod
    def stalled(cls, now: datetime | None = None) -> models.Q:
        """Batches left processing by a run that died: their lease ran out."""
        return models.Q(
            status=cls.Status.PROCESSING, heartbeat_at__lt=cls.lease_expired_before(now)
        )

    @property
    def is_stalled(self) -> bool:
        return (
            self.status == self.Status.PROCESSING
            and self.heartbeat_at is not None
            and self.heartbeat_at < self.lease_expired_before()
        )

    @property
    def status_badge(self) -> str:
        """The status as pages show it: a stalled batch is still processing in the database."""
        return "stalled" if self.is_stalled else self.status

    @property
    def status_label(self) -> str:
        return str(_("Stalled")) if self.is_stalled else self.get_status_display()

    @property
    def progress_percent(self) -> int:
        if self.status in (self.Status.COMPLETED, self.Status.FAILED):
            return 100
        if not self.size_bytes:
            return 0
        return min(99, int(100 * self.bytes_processed / self.size_bytes))

    @property
    def error_text(self) -> str:
        """Why the file failed, in the active language."""
        return render_message(self.error_message, self.error)

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES.get(self.encoding, self.encoding)

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

    batch = models.ForeignKey(
        FeedBatch, on_delete=models.CASCADE, related_name="row_errors", verbose_name=_("batch")
    )
    line = models.PositiveIntegerField(verbose_name=_("line"))
    field = models.CharField(max_length=64, blank=True, verbose_name=_("field"))
    reason = models.CharField(max_length=500, help_text=_("In English."), verbose_name=_("reason"))
    # The reason as a message id and its parameters, shown in the reader's language.
    reason_message = models.JSONField(null=True, blank=True, editable=False)
    raw = models.TextField(
        blank=True, help_text=_("The row as received."), verbose_name=_("raw row")
    )

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["batch", "line", "id"]
        indexes = [models.Index(fields=["batch", "line"], name="feed_row_error_batch_line")]

    def __str__(self) -> str:
        return _("line %(line)s: %(field)s %(reason)s") % {
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
        }

    @property
    def reason_text(self) -> str:
        """The reason in the active language."""
        return render_message(self.reason_message, self.reason)


class FeedBatchTouch(models.Model):
    """An (agent, local date) a batch created or changed facts on: the periods to re-score."""

    batch = models.ForeignKey(
        FeedBatch, on_delete=models.CASCADE, related_name="touches", verbose_name=_("batch")
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.CASCADE, related_name="+", verbose_name=_("agent")
    )
    local_date = models.DateField(verbose_name=_("local date"))

    class Meta:
        verbose_name = _("batch touch")
        verbose_name_plural = _("batch touches")
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
        verbose_name=_("source"),
    )
    external_id = models.CharField(max_length=128, verbose_name=_("external id"))
    agent = models.ForeignKey(
        Agent,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("agent"),
    )
    channel = models.CharField(max_length=32, verbose_name=_("channel"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    handle_seconds = models.FloatField(null=True, blank=True, verbose_name=_("handle time (s)"))
    first_response_seconds = models.FloatField(
        null=True, blank=True, verbose_name=_("first response time (s)")
    )
    wait_seconds = models.FloatField(null=True, blank=True, verbose_name=_("wait time (s)"))
    case_id = models.CharField(max_length=128, blank=True, verbose_name=_("case id"))
    resolved = models.BooleanField(null=True, blank=True, verbose_name=_("resolved"))
    first_contact_resolution = models.BooleanField(
        null=True, blank=True, verbose_name=_("first-contact resolution")
    )
    transferred = models.BooleanField(null=True, blank=True, verbose_name=_("transferred"))
    escalated = models.BooleanField(null=True, blank=True, verbose_name=_("escalated"))
    abandoned = models.BooleanField(null=True, blank=True, verbose_name=_("abandoned"))
    csat = models.SmallIntegerField(null=True, blank=True, verbose_name=_("CSAT"))
    nps = models.SmallIntegerField(null=True, blank=True, verbose_name=_("NPS"))
    ces = models.SmallIntegerField(null=True, blank=True, verbose_name=_("CES"))
    # The score the `qa` metric reads: a finished review's when there is one, else the feed's.
    qa_score = models.FloatField(null=True, blank=True, verbose_name=_("QA score"))
    # A mystery shopper's score of this contact (their vendor's file, or a review in Atendo on
    # a mystery-shopping form): reported apart from quality monitoring.
    mystery_score = models.FloatField(
        null=True, blank=True, verbose_name=_("mystery-shopper score")
    )
    # What feeds last said, kept beside a review's score that wins over it.
    feed_qa_score = models.FloatField(null=True, blank=True, verbose_name=_("feed's QA score"))
    qa_reviewed = models.BooleanField(
        # In the database too: bulk loads that name only the feed's columns (benchmarks, COPY)
        # get False.
        default=False,
        db_default=False,
        help_text=_("Its QA score comes from a review in Atendo; feeds' scores are kept aside."),
        verbose_name=_("reviewed in Atendo"),
    )
    batch = models.ForeignKey(
        FeedBatch,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
        help_text=_("The batch that last created or changed this fact."),
        verbose_name=_("batch"),
    )
    row_digest = models.BinaryField(
        max_length=16,
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Digest of the feed row that last set this fact and of how it was read: "
            "the same row sent again is recognised as unchanged without being validated."
        ),
        verbose_name=_("row digest"),
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
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
