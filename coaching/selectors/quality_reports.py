"""QA reports: the finished reviews (never calibration ones) of the teams a person reviews,
for the interactions of a date range: the score by month, team, agent and form, each
section's and item's earned share, and the items each team misses most; and the reviews as
rows for export. Scores are means of review scores; an item's share is what its applicable
answers earned of its weight (N/A counts for nothing)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from coaching.models import QAAnswer, QAForm, QAFormVersion, QAReview
from coaching.selectors.quality import answer_share
from performance.access import teams_reviewed_by
from performance.roles import is_admin

MOST_FAILED = 5
MIN_ANSWERS = 3  # an item answered fewer times is not ranked among the most failed


@dataclass(frozen=True)
class ScoreLine:
    label: str
    reviews: int
    mean: float | None
    key: object = None  # the team's, agent's or form's id; the month (a datetime) by month


@dataclass
class ItemLine:
    form: str
    section: str
    text: str
    applicable: int = 0
    earned: float = 0.0
    missed: int = 0  # answers earning under half the item's weight
    not_applicable: int = 0

    @property
    def share(self) -> float | None:
        return self.earned / self.applicable if self.applicable else None

    @property
    def miss_rate(self) -> float:
        return self.missed / self.applicable if self.applicable else 0.0


@dataclass
class QAReport:
    reviews: int
    mean: float | None
    by_month: list[ScoreLine]
    by_team: list[ScoreLine]
    by_agent: list[ScoreLine]
    by_form: list[ScoreLine]
    sections: list[ItemLine] = field(default_factory=list)
    items: list[ItemLine] = field(default_factory=list)
    # Each section with its items, in form and section order.
    by_section: list[tuple[ItemLine, list[ItemLine]]] = field(default_factory=list)
    most_failed: dict[str, list[ItemLine]] = field(default_factory=dict)


def report_reviews(
    user: AbstractBaseUser,
    *,
    since: date,
    until: date,
    team_id: int | None = None,
    form_id: int | None = None,
    kind: str = QAForm.Kind.MONITORING,
) -> QuerySet[QAReview]:
    """The finished, non-calibration reviews of interactions started in [since, until] (the
    server's days), of the teams the user reviews (every team for admins), on forms of one
    kind: quality monitoring and mystery shopping are reported apart."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    reviews = QAReview.objects.filter(
        status=QAReview.Status.FINISHED,
        calibration__isnull=True,
        version__form__kind=kind,
        interaction__started_at__gte=start,
        interaction__started_at__lt=end,
    )
    if not is_admin(user):
        reviews = reviews.filter(agent__team__in=teams_reviewed_by(user))
    if team_id is not None:
        reviews = reviews.filter(agent__team_id=team_id)
    if form_id is not None:
        reviews = reviews.filter(version__form_id=form_id)
    return reviews


def _rounded(mean: float | None) -> float | None:
    return round(mean, 2) if mean is not None else None


def _lines(reviews: QuerySet[QAReview], group: str, label: str) -> list[ScoreLine]:
    rows = (
        reviews.values(group, label)
        .annotate(n=Count("pk"), mean=Avg("score"))
        .order_by(label, group)
    )
    return [
        ScoreLine(
            label=str(row[label] or "—"),
            reviews=row["n"],
            mean=_rounded(row["mean"]),
            key=row[group],
        )
        for row in rows
    ]


def qa_report(
    user: AbstractBaseUser,
    *,
    since: date,
    until: date,
    team_id: int | None = None,
    form_id: int | None = None,
    kind: str = QAForm.Kind.MONITORING,
) -> QAReport:
    reviews = report_reviews(
        user, since=since, until=until, team_id=team_id, form_id=form_id, kind=kind
    )
    total = reviews.aggregate(n=Count("pk"), mean=Avg("score"))
    months = (
        reviews.annotate(month=TruncMonth("interaction__started_at"))
        .values("month")
        .annotate(n=Count("pk"), mean=Avg("score"))
        .order_by("month")
    )
    agents = (
        reviews.values("agent_id", "agent__user__first_name", "agent__user__last_name")
        .annotate(n=Count("pk"), mean=Avg("score"))
        .order_by("mean", "agent_id")
    )
    by_agent = [
        ScoreLine(
            label=f"{row['agent__user__first_name']} {row['agent__user__last_name']}".strip(),
            reviews=row["n"],
            mean=_rounded(row["mean"]),
            key=row["agent_id"],
        )
        for row in agents
    ]
    report = QAReport(
        reviews=total["n"],
        mean=_rounded(total["mean"]),
        by_month=[
            ScoreLine(label="", reviews=row["n"], mean=_rounded(row["mean"]), key=row["month"])
            for row in months
        ],
        by_team=_lines(reviews, "agent__team_id", "agent__team__name"),
        by_agent=by_agent,
        by_form=_lines(reviews, "version__form_id", "version__form__name"),
    )
    _item_lines(report, reviews)
    return report


def _item_lines(report: QAReport, reviews: QuerySet[QAReview]) -> None:
    """Each section's and item's earned share, and per team the items missed most."""
    versions = {
        version.pk: version
        for version in QAFormVersion.objects.filter(
            pk__in=reviews.values("version_id")
        ).select_related("form")
    }
    meta: dict[tuple[int, str], tuple[str, str, dict]] = {}
    for version in versions.values():
        for section in version.structure["sections"]:
            for item in section["items"]:
                meta[version.pk, item["key"]] = (version.form.name, section["title"], item)
    items: dict[tuple[str, str], ItemLine] = {}
    sections: dict[tuple[str, str], ItemLine] = {}
    per_team: dict[str, dict[tuple[str, str], ItemLine]] = defaultdict(dict)
    answers = QAAnswer.objects.filter(review__in=reviews).values_list(
        "review__version_id", "review__agent__team__name", "key", "answer"
    )
    for version_id, team, key, answer in answers.iterator(chunk_size=5000):
        if (version_id, key) not in meta:
            continue
        form, section, item = meta[version_id, key]
        # Items keep their key across versions; the latest wording names them.
        line = items.setdefault((form, key), ItemLine(form, section, item["text"]))
        section_line = sections.setdefault((form, section), ItemLine(form, section, section))
        team_line = per_team[team or "—"].setdefault(
            (form, key), ItemLine(form, section, item["text"])
        )
        share = answer_share(item, answer)
        for target in (line, section_line, team_line):
            if share is None:
                target.not_applicable += 1
                continue
            target.applicable += 1
            target.earned += share
            target.missed += share < 0.5
    report.items = sorted(items.values(), key=lambda line: (line.form, line.section, line.text))
    report.sections = sorted(sections.values(), key=lambda line: (line.form, line.section))
    report.by_section = [
        (
            section,
            [
                line
                for line in report.items
                if (line.form, line.section) == (section.form, section.section)
            ],
        )
        for section in report.sections
    ]
    report.most_failed = {
        team: sorted(
            (
                line
                for (_form, _key), line in lines.items()
                if line.applicable >= MIN_ANSWERS and line.missed
            ),
            key=lambda line: (-line.miss_rate, -line.missed, line.text),
        )[:MOST_FAILED]
        for team, lines in sorted(per_team.items())
    }


def export_rows(reviews: QuerySet[QAReview]) -> QuerySet[QAReview]:
    """The reviews as the export lists them, oldest interaction first."""
    return (
        reviews.select_related(
            "interaction", "agent__user", "agent__team", "version__form", "reviewer"
        )
        .annotate(disputes_count=Count("disputes"))
        .order_by("interaction__started_at", "pk")
    )
