"""Review plans: drawing each closed period's sample and assigning it to analysts.

For every agent of a plan's teams and every channel of its mix, a plan draws `per_agent`
interactions of the period at random (seeded by plan, period, team and channel, so a re-run
draws the same), never one already reviewed or drawn by any plan (an interaction is drawn
once, ever: `QAAssignment.interaction` is unique). Running it again tops up what is missing
(new facts arrived late) and draws nothing twice. A period is drawn only once it is over in the
team's zone. Each drawn interaction goes to the analyst with the least open work among the
plan's analysts who review that team (or the team's own quality analysts)."""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from coaching.models import QAAssignment, QAForm, QAPlan, QAReview
from coaching.services.quality import review_start
from performance.models import Interaction, Team
from performance.periods import Period, last_complete_period


@dataclass
class SampleResult:
    drawn: int = 0
    # Teams with nobody to review them (no analyst of the plan reviews them).
    teams_without_analyst: int = 0


def _local_today(team: Team) -> date:
    return timezone.localtime(timezone=ZoneInfo(team.time_zone)).date()


def _analysts(plan: QAPlan, team: Team) -> list[int]:
    """Who may take the team's assignments: the plan's analysts who review the team (its
    quality analysts and leads), else the team's quality analysts."""
    reviewers = set(team.quality_analysts.values_list("pk", flat=True)) | set(
        team.leads.values_list("pk", flat=True)
    )
    chosen = set(plan.analysts.values_list("pk", flat=True))
    if chosen:
        return sorted(chosen & reviewers)
    return sorted(team.quality_analysts.values_list("pk", flat=True))


@transaction.atomic
def plan_sample(plan: QAPlan, period: Period) -> SampleResult:
    """Draw (or top up) the plan's sample of one period, team by team."""
    QAPlan.objects.select_for_update().filter(pk=plan.pk).first()
    result = SampleResult()
    mix = list(plan.channels.values_list("channel_id", "per_agent"))
    if not mix:
        return result
    for team in plan.teams.order_by("pk"):
        if not period.is_complete(_local_today(team)):
            continue
        analysts = _analysts(plan, team)
        if not analysts:
            result.teams_without_analyst += 1
            continue
        new = _team_draw(plan, period, team, mix)
        _assign(new, analysts, due_on=period.end + timedelta(days=plan.due_days - 1))
        result.drawn += len(new)
    return result


def _team_draw(
    plan: QAPlan, period: Period, team: Team, mix: list[tuple[str, int]]
) -> list[QAAssignment]:
    start, end = period.bounds(ZoneInfo(team.time_zone))
    already = defaultdict(int)
    for agent_id, channel, drawn in (
        QAAssignment.objects.filter(plan=plan, period_start=period.start, agent__team=team)
        .values_list("agent_id", "channel")
        .annotate(drawn=Count("pk"))
    ):
        already[agent_id, channel] = drawn
    new = []
    for channel, per_agent in sorted(mix):
        candidates = (
            Interaction.objects.filter(
                agent__team=team,
                agent__active=True,
                channel=channel,
                started_at__gte=start,
                started_at__lt=end,
            )
            .exclude(pk__in=QAReview.objects.values("interaction_id"))
            .exclude(pk__in=QAAssignment.objects.values("interaction_id"))
            .order_by("agent_id", "pk")
            .values_list("agent_id", "pk")
        )
        by_agent: dict[int, list[int]] = defaultdict(list)
        for agent_id, interaction_id in candidates:
            by_agent[agent_id].append(interaction_id)
        rng = random.Random(f"{plan.pk}|{period.start}|{team.pk}|{channel}")
        for agent_id, interaction_ids in sorted(by_agent.items()):
            wanted = per_agent - already[agent_id, channel]
            for interaction_id in rng.sample(
                interaction_ids, max(0, min(wanted, len(interaction_ids)))
            ):
                new.append(
                    QAAssignment(
                        plan=plan,
                        period_start=period.start,
                        interaction_id=interaction_id,
                        agent_id=agent_id,
                        channel=channel,
                    )
                )
    return new


def _assign(new: list[QAAssignment], analysts: list[int], *, due_on: date) -> None:
    """Each to the analyst with the least open work (ties: the lower id), then stored."""
    if not new:
        return
    open_work = dict.fromkeys(analysts, 0) | dict(
        QAAssignment.objects.filter(analyst_id__in=analysts)
        .filter(Q(review__isnull=True) | Q(review__status=QAReview.Status.DRAFT))
        .values_list("analyst_id")
        .annotate(n=Count("pk"))
    )
    heap = [(open_work[analyst], analyst) for analyst in analysts]
    heapq.heapify(heap)
    for assignment in new:
        load, analyst = heapq.heappop(heap)
        assignment.analyst_id = analyst
        assignment.due_on = due_on
        heapq.heappush(heap, (load + 1, analyst))
    QAAssignment.objects.bulk_create(new, batch_size=1000)


def plans_sample_due(*, today: date | None = None) -> int:
    """The beat's nightly draw: every active plan's last closed period (and the one before,
    so a night the beat missed is made up); returns how many interactions it drew."""
    today = today or timezone.localdate()
    drawn = 0
    for plan in QAPlan.objects.filter(active=True).order_by("pk"):
        last = last_complete_period(plan.period, today=today)
        for period in (last.previous(), last):
            drawn += plan_sample(plan, period).drawn
    return drawn


def assignment_review(assignment: QAAssignment, *, reviewer) -> QAReview:
    """The assignment's review, for its analyst: its draft if one was started, else a new one
    on the form for its channel (one for that channel first, then one for every channel)."""
    with transaction.atomic():
        assignment = QAAssignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.analyst_id != reviewer.pk:
            raise ValidationError(_("This interaction is assigned to another analyst."))
        if assignment.review_id is not None:
            return assignment.review
        form = (
            QAForm.objects.filter(active=True)
            .filter(Q(channel_id=assignment.channel) | Q(channel__isnull=True))
            .order_by(F("channel").asc(nulls_last=True), "name", "pk")
            .first()
        )
        if form is None:
            raise ValidationError(_("No active QA form serves this interaction's channel."))
        review = review_start(
            reviewer=reviewer, interaction_id=assignment.interaction_id, form=form
        )
        assignment.review = review
        assignment.save(update_fields=["review"])
        return review
