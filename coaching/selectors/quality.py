"""Reads of quality monitoring: a QA form as it stands (for its preview and its versions),
the interactions a reviewer may pick, and the reviews each person may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from coaching.models import (
    QAAnswer,
    QAAssignment,
    QACalibration,
    QADispute,
    QAForm,
    QAFormVersion,
    QAItem,
    QAPlan,
    QAReview,
)
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
    finished = Q(status=QAReview.Status.FINISHED, calibration__isnull=True)
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
        .filter(reviewer=user, status=QAReview.Status.FINISHED, calibration__isnull=True)
        .order_by("-finished_at", "-pk")
    )


def agent_reviews(agent: Agent) -> QuerySet[QAReview]:
    """An agent's finished reviews, latest first (what their "my reviews" page lists)."""
    return (
        QAReview.objects.select_related("version__form", "interaction", "reviewer")
        .filter(agent=agent, status=QAReview.Status.FINISHED, calibration__isnull=True)
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
    return review_sections_of_version(
        review.version, {row.key: row for row in review.answers.all()}
    )


def review_sections_of_version(
    version: QAFormVersion, answers: dict[str, QAAnswer] | None = None
) -> list[ReviewedSection]:
    """A form version's sections and items, each with its answer and comment (`answers`)."""
    answers = answers or {}
    sections = []
    for section in version.structure["sections"]:
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


# --- calibration ----------------------------------------------------------------------------


def calibrations_visible_to(user: AbstractBaseUser) -> QuerySet[QACalibration]:
    sessions = QACalibration.objects.select_related(
        "interaction__agent__user", "version__form", "facilitator", "reference"
    )
    if is_admin(user):
        return sessions
    return sessions.filter(
        Q(facilitator=user) | Q(pk__in=QACalibration.objects.filter(participants=user).values("pk"))
    )


def calibration_candidates(user: AbstractBaseUser) -> QuerySet:
    """Who may be asked to calibrate: the quality analysts and leads of the teams the user
    reviews (the session then checks each reviews the interaction's team)."""
    teams = teams_reviewed_by(user)
    return (
        get_user_model()
        .objects.filter(
            Q(pk__in=Team.objects.filter(pk__in=teams).values("quality_analysts"))
            | Q(pk__in=Team.objects.filter(pk__in=teams).values("leads"))
        )
        .filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


def calibration_for_user_or_404(user: AbstractBaseUser, calibration_id: int) -> QACalibration:
    calibration = calibrations_visible_to(user).filter(pk=calibration_id).first()
    if calibration is None:
        raise Http404(gettext("No such calibration session"))
    return calibration


def may_see_spread(user: AbstractBaseUser, calibration: QACalibration) -> bool:
    """Blind until then: a participant sees the others' answers once they finished their own
    (the facilitator, who scores none, and admins always; everyone once it is closed)."""
    if calibration.status == QACalibration.Status.CLOSED or is_admin(user):
        return True
    if calibration.facilitator_id == user.pk:
        return True
    return calibration.reviews.filter(reviewer=user, status=QAReview.Status.FINISHED).exists()


@dataclass(frozen=True)
class ItemSpread:
    key: str
    text: str
    # (reviewer name, answer) per finished participant, in the participants' order.
    answers: list[tuple[str, str]]
    # answer -> how many gave it, most given first.
    counts: list[tuple[str, int]]
    reference: str

    @property
    def agreement(self) -> float:
        """The share of reviewers who gave the most given answer."""
        total = sum(count for _answer, count in self.counts)
        return self.counts[0][1] / total if total else 0.0


def calibration_spread(calibration: QACalibration) -> list[ItemSpread]:
    """Each item's answers across the finished participants' reviews, with the reference."""
    reviews = list(
        calibration.reviews.filter(status=QAReview.Status.FINISHED)
        .exclude(pk=calibration.reference_id)
        .select_related("reviewer")
        .prefetch_related("answers")
        .order_by("reviewer__first_name", "reviewer__username")
    )
    reference = (
        dict(calibration.reference.answers.values_list("key", "answer"))
        if calibration.reference
        else {}
    )
    spread = []
    for section in calibration.version.structure["sections"]:
        for item in section["items"]:
            given = [
                (
                    review.reviewer.get_full_name() or review.reviewer.username,
                    next((a.answer for a in review.answers.all() if a.key == item["key"]), ""),
                )
                for review in reviews
            ]
            counts: dict[str, int] = {}
            for _name, answer in given:
                counts[answer] = counts.get(answer, 0) + 1
            spread.append(
                ItemSpread(
                    key=item["key"],
                    text=item["text"],
                    answers=given,
                    counts=sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])),
                    reference=reference.get(item["key"], ""),
                )
            )
    return spread


@dataclass(frozen=True)
class Alignment:
    reviewer_id: int
    agreed: int  # items answered as the reference
    items: int
    score: float | None
    reference_score: float | None

    @property
    def agreement(self) -> float:
        return self.agreed / self.items if self.items else 0.0

    @property
    def score_gap(self) -> float | None:
        if self.score is None or self.reference_score is None:
            return None
        return round(self.score - self.reference_score, 2)


def calibration_alignment(calibration: QACalibration) -> list[Alignment]:
    """Each finished participant's alignment with the reference (empty while open)."""
    reference = calibration.reference
    if reference is None:
        return []
    keys = [
        item["key"]
        for section in calibration.version.structure["sections"]
        for item in section["items"]
    ]
    agreed_answers = dict(reference.answers.values_list("key", "answer"))
    results = []
    reviews = (
        calibration.reviews.filter(status=QAReview.Status.FINISHED)
        .exclude(pk=reference.pk)
        .prefetch_related("answers")
        .order_by("reviewer_id")
    )
    for review in reviews:
        answers = {row.key: row.answer for row in review.answers.all()}
        agreed = sum(1 for key in keys if answers.get(key) == agreed_answers.get(key))
        results.append(
            Alignment(
                reviewer_id=review.reviewer_id,
                agreed=agreed,
                items=len(keys),
                score=review.score,
                reference_score=reference.score,
            )
        )
    return results


@dataclass(frozen=True)
class AlignmentRow:
    reviewer: str
    month: date
    sessions: int
    agreement: float  # mean share of items answered as the reference
    score_gap: float | None  # mean absolute gap to the reference score


def alignment_over_time(user: AbstractBaseUser) -> list[AlignmentRow]:
    """Per reviewer and month of the closed sessions the user sees: how aligned with the
    reference they were. A participant who facilitates none sees only their own rows."""
    sessions = calibrations_visible_to(user).filter(status=QACalibration.Status.CLOSED)
    sees_all = is_admin(user) or sessions.filter(facilitator=user).exists()
    names = {}
    grouped: dict[tuple[int, date], list] = {}
    for calibration in sessions.order_by("closed_at"):
        month = timezone.localtime(calibration.closed_at).date().replace(day=1)
        for result in calibration_alignment(calibration):
            if not sees_all and result.reviewer_id != user.pk:
                continue
            grouped.setdefault((result.reviewer_id, month), []).append(result)
            names[result.reviewer_id] = None
    people = {
        person.pk: person.get_full_name() or person.username
        for person in get_user_model().objects.filter(pk__in=names)
    }
    rows = []
    for (reviewer_id, month), results in sorted(
        grouped.items(), key=lambda pair: (people[pair[0][0]], pair[0][1])
    ):
        gaps = [abs(r.score_gap) for r in results if r.score_gap is not None]
        rows.append(
            AlignmentRow(
                reviewer=people[reviewer_id],
                month=month,
                sessions=len(results),
                agreement=sum(r.agreement for r in results) / len(results),
                score_gap=round(sum(gaps) / len(gaps), 2) if gaps else None,
            )
        )
    return rows


# --- training for repeated misses -----------------------------------------------------------


def answer_share(item: dict[str, Any], answer: str) -> float | None:
    """What a stored answer earned of a version item's weight; None when it does not count
    (not applicable, unanswered, a bonus item)."""
    if answer in ("", "na") or item["bonus"]:
        return None
    if answer == "yes":
        return 1.0
    if answer == "no":
        return 0.0
    return int(answer) / item["scale_max"] if answer.isdigit() else None


MISSED_BELOW = 0.5  # an answer earning under half the item's weight is a miss


@dataclass(frozen=True)
class RepeatedMiss:
    key: str
    text: str
    misses: int
    window: int
    modules: list[Any]


def repeated_misses(review: QAReview) -> list[RepeatedMiss]:
    """Items this finished review missed that the agent also missed in enough of their latest
    reviews on the same form (its training_misses of training_window, this one included),
    with the active training modules linked to them."""
    form = review.version.form
    if review.status != QAReview.Status.FINISHED or review.calibration_id:
        return []
    latest = list(
        QAReview.objects.filter(
            agent_id=review.agent_id,
            version__form=form,
            status=QAReview.Status.FINISHED,
            calibration__isnull=True,
            finished_at__lte=review.finished_at,
        )
        .select_related("version")
        .order_by("-finished_at", "-pk")[: form.training_window]
    )
    items: dict[tuple[int, str], dict[str, Any]] = {}
    for latest_review in latest:
        for section in latest_review.version.structure["sections"]:
            for item in section["items"]:
                items[latest_review.version_id, item["key"]] = item
    misses: dict[str, int] = {}
    missed_here: set[str] = set()
    for review_id, version_id, key, answer in QAAnswer.objects.filter(
        review__in=latest
    ).values_list("review_id", "review__version_id", "key", "answer"):
        item = items.get((version_id, key))
        share = answer_share(item, answer) if item else None
        if share is not None and share < MISSED_BELOW:
            misses[key] = misses.get(key, 0) + 1
            if review_id == review.pk:
                missed_here.add(key)
    repeated = [key for key in missed_here if misses[key] >= form.training_misses]
    if not repeated:
        return []
    linked = {
        str(item.pk): item
        for item in QAItem.objects.filter(
            pk__in=[int(key) for key in repeated if key.isdigit()]
        ).prefetch_related("training_modules")
    }
    found = []
    for key in sorted(repeated):
        item = linked.get(key)
        modules = [m for m in item.training_modules.all() if m.active] if item else []
        if modules:
            found.append(RepeatedMiss(key, item.text, misses[key], len(latest), modules))
    return found
