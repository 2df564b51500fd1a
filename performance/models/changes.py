"""What performance publishes to other apps: a record of each evaluation run that changed
rows (created, updated or deleted), and each subscriber's cursor over those records (the
durable side of `performance.signals.evaluations_changed`)."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from performance.models.standards import Evaluation


class EvaluationChange(models.Model):
    """One evaluation run that created, updated or deleted rows, written in the same
    transaction.

    Its scope bounds every row it changed or deleted: the standards (blank: all), the period
    starts and the agents (blank: all; a feed batch's run names the agents whose rows it
    changed). A deleted row is one the run no longer produces (its standard's teams or dates
    changed, its agent moved or was deactivated): subscribers reconcile the whole scope, so
    what they derived from a row that is gone is taken back. They read the rows through
    `evaluations()`, never a list of ids.
    """

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    first_period_start = models.DateField(_("first period start"))
    last_period_start = models.DateField(_("last period start"))
    standard_ids = models.JSONField(_("standards"), null=True, blank=True)
    agent_ids = models.JSONField(_("agents"), null=True, blank=True)
    batch_id = models.BigIntegerField(
        _("feed batch"), null=True, blank=True, help_text=_("The feed batch that caused it.")
    )
    created = models.PositiveIntegerField(_("rows created"))
    updated = models.PositiveIntegerField(_("rows updated"))
    deleted = models.PositiveIntegerField(
        _("rows deleted"),
        default=0,
        help_text=_("Rows within the scope that the run no longer produces."),
    )

    class Meta:
        verbose_name = _("evaluation change")
        verbose_name_plural = _("evaluation changes")

    def __str__(self) -> str:
        return f"Evaluation change {self.pk} ({self.created + self.updated + self.deleted} rows)"

    def evaluations(self) -> QuerySet[Evaluation]:
        """The evaluations within this change's scope (a superset of the rows it changed;
        the rows it deleted are, of course, not among them)."""
        rows = Evaluation.objects.filter(
            period_start__gte=self.first_period_start, period_start__lte=self.last_period_start
        )
        if self.standard_ids is not None:
            rows = rows.filter(standard_id__in=self.standard_ids)
        if self.agent_ids is not None:
            rows = rows.filter(agent_id__in=self.agent_ids)
        return rows


class ChangeCursor(models.Model):
    """How far one subscriber has applied the evaluation changes (advanced in the same
    transaction as the subscriber's own writes)."""

    subscriber = models.CharField(_("subscriber"), max_length=100, unique=True)
    last_change_id = models.BigIntegerField(_("last change applied"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("change cursor")
        verbose_name_plural = _("change cursors")

    def __str__(self) -> str:
        return f"{self.subscriber} at change {self.last_change_id}"
