"""Reads of quality monitoring: a QA form as it stands (for its preview and its versions),
the interactions a reviewer may pick, and the reviews each person may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from coaching.models import QAAssignment, QADispute, QAForm, QAItem, QAPlan, QAReview
from performance.access import interactions_reviewable_by, teams_reviewed_by
from performance.models import Agent, Interaction, Team
from performance.periods import Period, period_containing
from performance.roles import is_admin


def form_structure(form: QAForm) -> dict[str, Any]:
    """The form's sections and items as they stand, as a version keeps them."""
    return {
        "name": form.name,
        "sections": [
            {
                "title": section.title,
                "items": [
                    {
                        "key": str(item.pk),
                        "text": item.text,
                        "guidance": item.guidance,
                        "kind": item.kind,
                        "scale_max": item.scale_max if item.kind == QAItem.Kind.SCALE else 1,
                        "weight": item.weight,
                        "critical": item.critical,
                        "bonus": item.bonus,
                        "allows_na": item.allows_na,
                    }
                    for item in section.items.all()
                ],
            }
            for section in form.sections.prefetch_related("items")
        ],
    }


def form_points(structure: dict[str, Any]) -> int:
    """The weight a review can earn when every item applies (bonus items apart)."""
    return sum(
        item["weight"]
        for section in structure["sections"]
        for item in section["items"]
        if not item["bonus"]
    )


def interactions_for_review(
    user: AbstractBaseUser,
    *,
    reference: str = "",
    agent_id: int | None = None,
    channel: str = "",
    day: date | None = None,
) -> QuerySet[Interaction]:
    """What a reviewer may pick, newest first: interactions of a channel some active form
    serves, found by protocolo (the case id) or external id (exactly, or by its start),
    agent, channel and local day (in the reviewer's zone)."""
    found = interactions_reviewable_by(user)
    forms = QAForm.objects.filter(active=True)
    if not forms.filter(channel__isnull=True).exists():
        found = found.filter(channel__in=forms.values("channel_id"))
    reference = reference.strip()
    if reference:
        # Starting with it covers being it.
        found = found.filter(
            Q(case_id__istartswith=reference) | Q(external_id__istartswith=reference)
        )
    if agent_id is not None:
        found = found.filter(agent_id=agent_id)
    if channel:
        found = found.filter(channel=channel)
    if day is not None:
        start = timezone.make_aware(datetime.combine(day, time.min))
        end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        found = found.filter(started_at__gte=start, started_at__lt=end)
    return found.order_by("-started_at", "-pk")


# --- reviews --------------------------------------------------------------------------------


def reviews_visible_to(user: AbstractBaseUser) -> QuerySet[QAReview]:
    """The reviews the user may read: their own as reviewer (drafts too); finished ones of
    their own agent, and of the teams they review (an analyst's assigned teams, a lead's
    own); every review for admins. Nobody else's drafts."""
    reviews = QAReview.objects.select_related(
        "agent__user", "agent__team", "version__form", "interaction", "reviewer"
    )
    if is_admin(user):
        return reviews
    finished = Q(status=QAReview.Status.FINISHED)
    return reviews.filter(
        Q(reviewer=user)
        | (finished & Q(agent__user=user))
        | (finished & Q(agent__team__in=teams_reviewed_by(user)))
    )


def review_for_user_or_404(user: AbstractBaseUser, review_id: int) -> QAReview:
    review = reviews_visible_to(user).filter(pk=review_id).first()
    if review is None:
        raise Http404(gettext("No such review"))
    return review


def may_decide_dispute(user: AbstractBaseUser, review: QAReview) -> bool:
    """Who decides a dispute of a review: an admin, or another reviewer of the agent's team
    (a quality analyst or its supervisor), never the one who wrote it."""
    if review.reviewer_id == user.pk:
        return False
    return is_admin(user) or teams_reviewed_by(user).filter(pk=review.agent.team_id).exists()


def disputes_to_decide(user: AbstractBaseUser) -> QuerySet[QADispute]:
    """The open disputes the user decides, oldest first."""
    disputes = QADispute.objects.select_related(
        "review__agent__user", "review__agent__team", "review__version__form", "review__interaction"
    ).filter(status=QADispute.Status.OPEN)
    if not is_admin(user):
        disputes = disputes.filter(review__agent__team__in=teams_reviewed_by(user))
    return disputes.exclude(review__reviewer=user).order_by("opened_at", "pk")


def reviewer_drafts(user: AbstractBaseUser) -> QuerySet[QAReview]:
    return reviews_visible_to(user).filter(reviewer=user, status=QAReview.Status.DRAFT)


def reviewer_finished(user: AbstractBaseUser) -> QuerySet[QAReview]:
    """The reviews the user finished, latest first."""
    return (
        reviews_visible_to(user)
        .filter(reviewer=user, status=QAReview.Status.FINISHED)
        .order_by("-finished_at", "-pk")
    )


def agent_reviews(agent: Agent) -> QuerySet[QAReview]:
    """An agent's finished reviews, latest first (what their "my reviews" page lists)."""
    return (
        QAReview.objects.select_related("version__form", "interaction", "reviewer")
        .filter(agent=agent, status=QAReview.Status.FINISHED)
        .order_by("-finished_at", "-pk")
    )


def forms_for_channel(channel: str) -> QuerySet[QAForm]:
    """The active forms an interaction of this channel may be reviewed on."""
    return (
        QAForm.objects.filter(active=True)
        .filter(Q(channel__isnull=True) | Q(channel=channel))
        .order_by("name", "pk")
    )


@dataclass(frozen=True)
class ReviewedItem:
    key: str
    text: str
    guidance: str
    kind: str
    scale_max: int
    weight: int
    critical: bool
    bonus: bool
    allows_na: bool
    answer: str  # "" when not answered yet
    comment: str
    # Why the page refused what was posted for it (the review form fills these in).
    problems: tuple[str, ...] = ()

    @property
    def scale(self) -> range:
        return range(self.scale_max + 1)


@dataclass(frozen=True)
class ReviewedSection:
    title: str
    items: list[ReviewedItem]


def review_sections(review: QAReview) -> list[ReviewedSection]:
    """The review's form version, section by section, each item with its answer and comment."""
    answers = {row.key: row for row in review.answers.all()}
    sections = []
    for section in review.version.structure["sections"]:
        items = []
        for item in section["items"]:
            answer = answers.get(item["key"])
            items.append(
                ReviewedItem(
                    key=item["key"],
                    text=item["text"],
                    guidance=item["guidance"],
                    kind=item["kind"],
                    scale_max=item["scale_max"],
                    weight=item["weight"],
                    critical=item["critical"],
                    bonus=item["bonus"],
                    allows_na=item["allows_na"],
                    answer=answer.answer if answer else "",
                    comment=answer.comment if answer else "",
                )
            )
        sections.append(ReviewedSection(section["title"], items))
    return sections


# --- review plans ---------------------------------------------------------------------------


def analyst_queue(user: AbstractBaseUser) -> QuerySet[QAAssignment]:
    """The user's assignments still to do (not started or in draft), the soonest due first."""
    return (
        QAAssignment.objects.select_related(
            "agent__user", "agent__team", "interaction", "plan", "review"
        )
        .filter(analyst=user)
        .filter(Q(review__isnull=True) | Q(review__status=QAReview.Status.DRAFT))
        .order_by("due_on", "pk")
    )


@dataclass(frozen=True)
class PlanProgress:
    plan: QAPlan
    period: Period
    team: Team
    planned: int
    drawn: int
    done: int
    overdue: int

    @property
    def share_done(self) -> float | None:
        return self.done / self.planned if self.planned else None


def plan_progress(user: AbstractBaseUser, *, today: date, periods: int = 4) -> list[PlanProgress]:
    """For each plan and team the user reviews, its last `periods` periods (the one under way
    first): interactions planned (agents now times the mix), drawn, reviewed and overdue."""
    teams = set(teams_reviewed_by(user).values_list("pk", flat=True))
    plans = (
        QAPlan.objects.filter(active=True, teams__in=teams)
        .distinct()
        .prefetch_related("channels", "teams")
        .order_by("name", "pk")
    )
    agents = dict(
        Agent.objects.filter(active=True, team__in=teams)
        .values_list("team_id")
        .annotate(n=Count("pk"))
    )
    rows = []
    for plan in plans:
        per_agent = sum(line.per_agent for line in plan.channels.all())
        period = period_containing(today, plan.period)
        shown = [period]
        for _ in range(periods - 1):
            shown.append(shown[-1].previous())
        counts = {
            (team_id, start): (drawn, done, overdue)
            for team_id, start, drawn, done, overdue in QAAssignment.objects.filter(
                plan=plan, period_start__in=[p.start for p in shown], agent__team__in=teams
            )
            .values_list("agent__team_id", "period_start")
            .annotate(
                drawn=Count("pk"),
                done=Count("pk", filter=Q(review__status=QAReview.Status.FINISHED)),
                overdue=Count(
                    "pk",
                    filter=Q(due_on__lt=today)
                    & (Q(review__isnull=True) | Q(review__status=QAReview.Status.DRAFT)),
                ),
            )
        }
        for team in sorted(plan.teams.all(), key=lambda team: team.name):
            if team.pk not in teams:
                continue
            for shown_period in shown:
                drawn, done, overdue = counts.get((team.pk, shown_period.start), (0, 0, 0))
                rows.append(
                    PlanProgress(
                        plan=plan,
                        period=shown_period,
                        team=team,
                        planned=agents.get(team.pk, 0) * per_agent,
                        drawn=drawn,
                        done=done,
                        overdue=overdue,
                    )
                )
    return rows
