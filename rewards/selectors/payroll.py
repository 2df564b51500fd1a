"""Variable pay: the points each agent earned in a month, by kind, for the payroll's run.

A month's points are the ledger entries whose `earned_on` (the local date they belong to: an
evaluation's period start, else the day they were granted) falls in it; spending (redemption
holds and releases) is not pay. They are summed in the database, one grouped query per
(agent, kind), so an export never reads entries one by one.

A month is final once nothing can still add to it by itself: every period that starts in it
has closed in the zone of every team its agents were in during the month, the night after
the last one closed has passed (the nightly reconciliation pays closed periods), and no
evaluation change is waiting to be reconciled. Until then the export says "provisional". A
late correction can still move a final month (it is a new ledger entry, dated in the month);
an export always says when it was produced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from performance.access import agents_visible_to
from performance.models import (
    Agent,
    AgentExternalId,
    ChangeCursor,
    EvaluationChange,
    ServiceStandard,
    TeamMembership,
)
from performance.periods import PeriodKind, period_containing
from performance.roles import is_admin, is_team_lead
from rewards.models import SPENDING_KINDS, PointsEntry, ReconcileRequest
from rewards.services.changes import CHANGE_SUBSCRIBER
from rewards.windows import Window

# What pays, in the ledger's own order: every kind but spending.
PAYROLL_KINDS: tuple[str, ...] = tuple(
    kind.value for kind in PointsEntry.Kind if kind not in SPENDING_KINDS
)
# Column headings of the kinds, for the page and the files.
KIND_HEADINGS = {
    PointsEntry.Kind.STANDARD: _("Standards"),
    PointsEntry.Kind.STREAK_BONUS: _("Streak bonuses"),
    PointsEntry.Kind.BADGE: _("Badges"),
    PointsEntry.Kind.CHALLENGE_PRIZE: _("Challenges"),
    PointsEntry.Kind.TRAINING_COMPLETED: _("Training"),
    PointsEntry.Kind.MANUAL_ADJUSTMENT: _("Adjustments"),
    PointsEntry.Kind.COMPENSATION: _("Compensation"),
}


def kind_heading(kind: str) -> str:
    return str(KIND_HEADINGS.get(kind) or PointsEntry.Kind(kind).label)


# The nightly reconciliation pays the periods that closed the day before: a month is final
# only once that night has passed after its last period closed.
SETTLE_DAYS = 1


@dataclass(frozen=True)
class PayrollRow:
    agent_id: int
    team: str
    external_id: str  # the agent's ids in the feed sources, comma-separated
    name: str
    active: bool
    points: Mapping[str, int]  # every PAYROLL_KINDS kind, 0 where none

    @property
    def total(self) -> int:
        return sum(self.points.values())


@dataclass(frozen=True)
class PayrollMonth:
    month: Window
    rows: list[PayrollRow]
    totals: Mapping[str, int]  # per kind, over every row
    # The day (local, in the latest-starting zone) from which the month is final, had no
    # change been pending: the last period's end plus SETTLE_DAYS.
    final_from: date
    periods_closed: bool
    pending_changes: int  # evaluation changes not reconciled yet
    produced_at: datetime

    @property
    def final(self) -> bool:
        return self.periods_closed and self.pending_changes == 0

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def status(self) -> str:
        """Final, or provisional and why, in the reader's language (page, files, API)."""
        if self.final:
            return gettext(
                "Final: every period of the month has closed and its points are reconciled."
            )
        reasons = []
        if not self.periods_closed:
            reasons.append(
                gettext("periods of the month are still open (final from %(day)s at the earliest)")
                % {"day": date_format(self.final_from, "SHORT_DATE_FORMAT")}
            )
        if self.pending_changes:
            reasons.append(
                ngettext(
                    "%(count)s evaluation change is still being reconciled",
                    "%(count)s evaluation changes are still being reconciled",
                    self.pending_changes,
                )
                % {"count": self.pending_changes}
            )
        return gettext("Provisional: %(reasons)s.") % {"reasons": "; ".join(reasons)}


def payroll_agents_for(user: AbstractBaseUser) -> QuerySet[Agent]:
    """Whose variable pay a user exports: a lead the agents of the teams they lead (never
    their own), an admin everyone's; nobody else anyone's."""
    if not is_team_lead(user):
        return Agent.objects.none()
    agents = agents_visible_to(user)
    return agents if is_admin(user) else agents.exclude(user=user)


def payroll_points(agents: QuerySet[Agent], month: Window) -> dict[int, dict[str, int]]:
    """agent id -> kind -> points earned in `month`, for `agents`: one grouped query."""
    found: dict[int, dict[str, int]] = {}
    for agent_id, kind, points in (
        PointsEntry.objects.filter(
            agent__in=agents.values("pk"),
            earned_on__gte=month.start,
            earned_on__lt=month.end,
        )
        .exclude(kind__in=SPENDING_KINDS)
        .values("agent_id", "kind")
        .annotate(points=Sum("points"))
        .order_by()
        .values_list("agent_id", "kind", "points")
    ):
        found.setdefault(agent_id, {})[kind] = points
    return found


def _external_ids(agent_ids: list[int]) -> dict[int, str]:
    ids: dict[int, list[str]] = {}
    for agent_id, external_id in (
        AgentExternalId.objects.filter(agent_id__in=agent_ids)
        .order_by("agent_id", "source__slug", "external_id")
        .values_list("agent_id", "external_id")
    ):
        known = ids.setdefault(agent_id, [])
        if external_id not in known:
            known.append(external_id)
    return {agent_id: ", ".join(values) for agent_id, values in ids.items()}


def _month_zones(agent_ids: list[int], month: Window) -> set[str]:
    """The zones of every team the agents were in during the month."""
    return set(
        TeamMembership.objects.filter(agent_id__in=agent_ids, starts_on__lt=month.end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=month.start))
        .order_by()
        .values_list("team__time_zone", flat=True)
        .distinct()
    )


def month_closes_on(month: Window, kinds: Iterable[str]) -> date:
    """The first day on which every period of `kinds` that starts in `month` has ended (a
    week starting on the 30th ends in the next month). Pure."""
    last_day = month.end - timedelta(days=1)
    ends = [period_containing(last_day, PeriodKind(kind)).end for kind in kinds]
    return max([month.end, *ends])


def pending_reconciliations() -> int:
    """Evaluation changes rewards has not reconciled yet: requests not done, and changes
    the seam has not delivered to rewards (a process died between commit and delivery)."""
    waiting = ReconcileRequest.objects.filter(done_at__isnull=True).count()
    applied = ChangeCursor.objects.filter(subscriber=CHANGE_SUBSCRIBER).values("last_change_id")
    undelivered = EvaluationChange.objects.filter(
        id__gt=Coalesce(Subquery(applied[:1]), Value(0))
    ).count()
    return waiting + undelivered


def payroll_for(
    agents: QuerySet[Agent], month: Window, *, now: datetime | None = None
) -> PayrollMonth:
    """The month's points of `agents` (the caller's scope: agents_visible_to), by kind: a
    row for every active agent and for every inactive one with points in the month, by team
    and name. A fixed number of queries, however many agents and entries."""
    now = now or timezone.now()
    points = payroll_points(agents, month)
    listed = list(
        agents.filter(Q(active=True) | Q(pk__in=list(points))).select_related("user", "team")
    )
    agent_ids = [agent.pk for agent in listed]
    external_ids = _external_ids(agent_ids)
    rows = sorted(
        (
            PayrollRow(
                agent_id=agent.pk,
                team=agent.team.name,
                external_id=external_ids.get(agent.pk, ""),
                name=agent.display_name,
                active=agent.active,
                points=MappingProxyType(
                    {kind: points.get(agent.pk, {}).get(kind, 0) for kind in PAYROLL_KINDS}
                ),
            )
            for agent in listed
        ),
        key=lambda row: (row.team.casefold(), row.name.casefold(), row.agent_id),
    )
    totals = MappingProxyType(
        {kind: sum(row.points[kind] for row in rows) for kind in PAYROLL_KINDS}
    )
    kinds = set(ServiceStandard.objects.order_by().values_list("period", flat=True).distinct())
    final_from = month_closes_on(month, kinds) + timedelta(days=SETTLE_DAYS)
    zones = _month_zones(agent_ids, month) or {settings.TIME_ZONE}
    periods_closed = all(
        timezone.localtime(now, ZoneInfo(zone)).date() >= final_from for zone in zones
    )
    return PayrollMonth(
        month=month,
        rows=rows,
        totals=totals,
        final_from=final_from,
        periods_closed=periods_closed,
        pending_changes=pending_reconciliations(),
        produced_at=now,
    )
