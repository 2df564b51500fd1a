"""Badges, derived like streaks: for a chunk of agents, which badges the evidence earns now
(each once, or once per week, month or quarter), to be compared with the ledger and the
badges held. Reconciliation calls it after the chunk's points are known, so a badge on
lifetime points sees them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import Rank, TruncDate
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from performance.models import Evaluation, Interaction
from performance.periods import PeriodKind, period_containing
from performance.selectors import earns
from rewards.models import (
    SPENDING_KINDS,
    AgentBadge,
    Badge,
    ChallengeResult,
    Leaderboard,
    PointsEntry,
    PointsTotal,
)
from rewards.services.streaks import streaks_of
from rewards.windows import Span, window_containing

Criterion = Badge.Criterion


@dataclass(frozen=True)
class BadgeAward:
    agent_id: int
    badge: Badge
    window_start: date
    earned_on: date
    evidence: str

    @property
    def reference(self) -> str:
        return f"badge:{self.badge.pk}:{self.window_start.isoformat()}"


def nth_in_windows(
    events: Iterable[tuple[date, int]], n: int, span: Span
) -> list[tuple[date, date]]:
    """(window start, day the n-th event of that window happened) for every window of `span`
    with at least n events; events are (day, how many that day)."""
    counted: dict[date, int] = defaultdict(int)
    reached: dict[date, date] = {}
    for day, count in sorted(events):
        window = window_containing(day, span).start
        if window in reached:
            continue
        counted[window] += count
        if counted[window] >= n:
            reached[window] = day
    return sorted(reached.items())


@dataclass
class BadgeRun:
    """What one reconciliation reads once for every chunk: the active badges and the
    closed leaderboard windows' top places."""

    badges: list[Badge]
    top_places: dict[int, dict[int, list[tuple[date, int]]]] = field(default_factory=dict)
    # badge id -> agent id -> [(window's last day, rank)]

    @classmethod
    def load(cls, *, today: date) -> BadgeRun:
        badges = list(Badge.objects.filter(active=True).select_related("standard", "leaderboard"))
        run = cls(badges)
        for badge in badges:
            if badge.criterion == Criterion.LEADERBOARD_TOP and badge.leaderboard:
                run.top_places[badge.pk] = _top_places(badge.leaderboard, badge.threshold, today)
        return run

    @property
    def names(self) -> dict[str, str]:
        """A badge's reference prefix (badge:<id>) -> its name, for notes."""
        return {f"badge:{badge.pk}": badge.name for badge in self.badges}


def _top_places(board: Leaderboard, places: int, today: date) -> dict[int, list[tuple[date, int]]]:
    """Who finished in the top `places` of every closed window of the board's default span
    (ties share a rank), ranked over everyone in scope, not one chunk."""
    span = Span(board.default_window)
    if span == Span.ALL:
        return {}
    current = window_containing(today, span).start
    totals = PointsTotal.objects.filter(
        span=span.value,
        channel=board.channel if board.scope == Leaderboard.Scope.CHANNEL else "",
        starts_on__lt=current,
        agent__active=True,
    )
    partition = [F("starts_on")]
    if board.scope == Leaderboard.Scope.TEAM:
        partition.append(F("agent__team_id"))
    ranked = totals.annotate(
        rank=Window(Rank(), partition_by=partition, order_by=F("points").desc())
    ).filter(rank__lte=places)
    found: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for agent_id, starts_on, rank in ranked.values_list("agent_id", "starts_on", "rank"):
        last_day = window_containing(starts_on, span).end - timedelta(days=1)
        found[agent_id].append((last_day, rank))
    return found


def _challenge_prizes(
    agent_ids: list[int], badges: list[Badge]
) -> dict[tuple[int, int], list[tuple[date, str]]]:
    """(badge id, agent id) -> [(the challenge's last day, evidence)] of the final results
    whose place won the badge."""
    found: dict[tuple[int, int], list[tuple[date, str]]] = defaultdict(list)
    for badge_id, agent_id, ends_on, name, rank in ChallengeResult.objects.filter(
        agent_id__in=agent_ids, prize_badge__in=badges
    ).values_list("prize_badge_id", "agent_id", "challenge__ends_on", "challenge__name", "rank"):
        evidence = _("#%(rank)s in the challenge %(challenge)s") % {
            "rank": rank,
            "challenge": name,
        }
        found[(badge_id, agent_id)].append((ends_on, evidence))
    return found


def _closed_evaluations(
    agent_ids: list[int], standard_ids: set[int], today: Callable[[int, date], date]
) -> dict[tuple[int, int], list[tuple[date, str, bool | None]]]:
    judged: dict[tuple[int, int], list[tuple[date, str, bool | None]]] = defaultdict(list)
    if not standard_ids:
        return judged
    for agent_id, standard_id, start, end, outcome, gate in Evaluation.objects.filter(
        agent_id__in=agent_ids, standard_id__in=standard_ids
    ).values_list(
        "agent_id", "standard_id", "period_start", "period_end", "outcome", "gate_passed"
    ):
        if end <= today(agent_id, start):
            judged[(agent_id, standard_id)].append((start, outcome, gate))
    return judged


def _earned_by_day(agent_ids: list[int], *, kinds: Q) -> dict[int, dict[date, int]]:
    """Per agent and earned_on, the points of the ledger's entries of `kinds`."""
    days: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for agent_id, earned_on, points in (
        PointsEntry.objects.filter(kinds, agent_id__in=agent_ids)
        .values_list("agent_id", "earned_on")
        .annotate(points=Sum("points"))
        .order_by()
    ):
        days[agent_id][earned_on] += points
    return days


def _trainings(agent_ids: list[int], pending: Sequence) -> dict[int, list[tuple[date, int]]]:
    """Completed trainings per agent (a reference whose entries still add up to more than
    nothing), on the day of their first entry."""
    held: dict[tuple[int, str], list] = {}
    rows = PointsEntry.objects.filter(
        kind=PointsEntry.Kind.TRAINING_COMPLETED, agent_id__in=agent_ids
    ).values_list("agent_id", "reference", "earned_on", "points")
    extra = [
        (e.agent_id, e.reference, e.earned_on, e.points)
        for e in pending
        if e.kind == PointsEntry.Kind.TRAINING_COMPLETED
    ]
    for agent_id, reference, earned_on, points in [*rows, *extra]:
        entry = held.setdefault((agent_id, reference), [earned_on, 0])
        entry[0] = min(entry[0], earned_on)
        entry[1] += points
    found: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for (agent_id, _reference), (earned_on, points) in held.items():
        if points > 0:
            found[agent_id].append((earned_on, 1))
    return found


def _five_star_days(agent_ids: list[int]) -> dict[int, list[tuple[date, int]]]:
    """Five-star CSAT surveys per agent and local day (the site's zone), up to yesterday."""
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localtime(timezone.now(), zone).date()
    found: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for agent_id, day, count in (
        Interaction.objects.filter(agent_id__in=agent_ids, csat=5)
        .annotate(day=TruncDate("started_at", tzinfo=zone))
        .values_list("agent_id", "day")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        if day < today:
            found[agent_id].append((day, count))
    return found


def _period_label(standard, start: date) -> str:
    return period_containing(start, PeriodKind(standard.period)).label


def _streak_evidence(standard, n: int, day: date) -> str:
    return ngettext(
        "%(standard)s: %(n)s period in a row, reached in %(period)s",
        "%(standard)s: %(n)s periods in a row, reached in %(period)s",
        n,
    ) % {"standard": standard.name, "n": n, "period": _period_label(standard, day)}


def _exceeded_evidence(standard, n: int, day: date) -> str:
    return ngettext(
        "%(standard)s exceeded in %(n)s period, the last in %(period)s",
        "%(standard)s exceeded in %(n)s periods, the last in %(period)s",
        n,
    ) % {"standard": standard.name, "n": n, "period": _period_label(standard, day)}


def _lifetime_evidence(n: int, day: date) -> str:
    return _("%(points)s lifetime points, reached on %(day)s") % {
        "points": number_format(n, force_grouping=True),
        "day": date_format(day, "SHORT_DATE_FORMAT"),
    }


def _trainings_evidence(n: int, day: date) -> str:
    return ngettext(
        "%(n)s training completed, the last on %(day)s",
        "%(n)s trainings completed, the last on %(day)s",
        n,
    ) % {"n": n, "day": date_format(day, "SHORT_DATE_FORMAT")}


def _five_star_evidence(n: int, day: date) -> str:
    return ngettext(
        "%(n)s five-star CSAT survey, the last on %(day)s",
        "%(n)s five-star CSAT surveys, the last on %(day)s",
        n,
    ) % {"n": n, "day": date_format(day, "SHORT_DATE_FORMAT")}


def badges_derive(
    agent_ids: list[int],
    run: BadgeRun,
    *,
    today: Callable[[int, date], date],
    pending: Sequence = (),
) -> list[BadgeAward]:
    """Every badge the chunk's agents hold on the current evidence; `pending` are the
    chunk's entries not yet in the ledger (a check run's, which writes nothing)."""
    if not run.badges:
        return []
    by_criterion: dict[str, list[Badge]] = defaultdict(list)
    for badge in run.badges:
        by_criterion[badge.criterion].append(badge)
    awards: list[BadgeAward] = []

    def add(badge: Badge, agent_id: int, won: list[tuple[date, date]], evidence) -> None:
        for window_start, day in won:
            awards.append(BadgeAward(agent_id, badge, window_start, day, evidence(day)))

    standard_badges = by_criterion[Criterion.STREAK] + by_criterion[Criterion.EXCEEDED]
    judged = _closed_evaluations(agent_ids, {badge.standard_id for badge in standard_badges}, today)
    for badge in standard_badges:
        span, standard = Span(badge.repeat), badge.standard
        for agent_id in agent_ids:
            periods = judged.get((agent_id, badge.standard_id), [])
            if badge.criterion == Criterion.STREAK:
                runs = streaks_of((start, earns(outcome, gate)) for start, outcome, gate in periods)
                reached = [
                    (run_.periods[badge.threshold - 1], 1)
                    for run_ in runs
                    if run_.length >= badge.threshold
                ]
                won = nth_in_windows(reached, 1, span)
                add(
                    badge,
                    agent_id,
                    won,
                    partial(_streak_evidence, standard, badge.threshold),
                )
            else:
                exceeded = [
                    (start, 1)
                    for start, outcome, gate in periods
                    if outcome == Evaluation.Outcome.EXCEEDED and gate is not False
                ]
                won = nth_in_windows(exceeded, badge.threshold, span)
                add(
                    badge,
                    agent_id,
                    won,
                    partial(_exceeded_evidence, standard, badge.threshold),
                )

    if by_criterion[Criterion.LIFETIME_POINTS]:
        earned = _earned_by_day(
            agent_ids, kinds=~Q(kind__in=[*SPENDING_KINDS, PointsEntry.Kind.BADGE])
        )
        for entry in pending:
            if entry.kind not in SPENDING_KINDS and entry.kind != PointsEntry.Kind.BADGE:
                earned[entry.agent_id][entry.earned_on] += entry.points
        for badge in by_criterion[Criterion.LIFETIME_POINTS]:
            for agent_id in agent_ids:
                days = sorted(earned.get(agent_id, {}).items())
                if sum(points for _day, points in days) < badge.threshold:
                    continue  # corrections took the agent back below it
                total, crossed = 0, None
                for day, points in days:
                    total += points
                    if total >= badge.threshold and crossed is None:
                        crossed = day
                    elif total < badge.threshold:
                        crossed = None
                add(
                    badge,
                    agent_id,
                    [(window_containing(crossed, Span.ALL).start, crossed)],
                    partial(_lifetime_evidence, badge.threshold),
                )

    if by_criterion[Criterion.TRAININGS]:
        trainings = _trainings(agent_ids, pending)
        for badge in by_criterion[Criterion.TRAININGS]:
            for agent_id in agent_ids:
                won = nth_in_windows(
                    trainings.get(agent_id, []), badge.threshold, Span(badge.repeat)
                )
                add(
                    badge,
                    agent_id,
                    won,
                    partial(_trainings_evidence, badge.threshold),
                )

    if by_criterion[Criterion.FIVE_STAR_CSAT]:
        surveys = _five_star_days(agent_ids)
        for badge in by_criterion[Criterion.FIVE_STAR_CSAT]:
            for agent_id in agent_ids:
                won = nth_in_windows(surveys.get(agent_id, []), badge.threshold, Span(badge.repeat))
                add(
                    badge,
                    agent_id,
                    won,
                    partial(_five_star_evidence, badge.threshold),
                )

    if by_criterion[Criterion.CHALLENGE]:
        won_in = _challenge_prizes(agent_ids, by_criterion[Criterion.CHALLENGE])
        for badge in by_criterion[Criterion.CHALLENGE]:
            for agent_id in agent_ids:
                finishes = won_in.get((badge.pk, agent_id), [])
                results = {day: text for day, text in finishes}
                won = nth_in_windows([(day, 1) for day, _text in finishes], 1, Span(badge.repeat))
                add(badge, agent_id, won, results.__getitem__)

    for badge in by_criterion[Criterion.LEADERBOARD_TOP]:
        places = run.top_places.get(badge.pk, {})
        for agent_id in agent_ids:
            finishes = places.get(agent_id, [])
            ranks = dict(finishes)
            won = nth_in_windows([(day, 1) for day, _rank in finishes], 1, Span(badge.repeat))
            add(
                badge,
                agent_id,
                won,
                lambda day, b=badge.leaderboard, r=ranks: (
                    _("#%(rank)s on %(board)s, %(window)s")
                    % {
                        "rank": r[day],
                        "board": b.name,
                        "window": window_containing(day, Span(b.default_window)).label,
                    }
                ),
            )
    return awards


def agent_badges_store(
    agent_ids: list[int], run: BadgeRun, awards: Sequence[BadgeAward]
) -> list[BadgeAward]:
    """Make the chunk's held badges of the active badges exactly `awards` (badges are
    derived: never edited; an inactive badge's holders keep it, and it earns nothing new).
    Returns the awards newly held."""
    wanted = {(a.agent_id, a.badge.pk, a.window_start): a for a in awards}
    held = {
        (agent_id, badge_id, start): pk
        for pk, agent_id, badge_id, start in AgentBadge.objects.filter(
            agent_id__in=agent_ids, badge_id__in=[badge.pk for badge in run.badges]
        ).values_list("pk", "agent_id", "badge_id", "window_start")
    }
    stale = [pk for key, pk in held.items() if key not in wanted]
    if stale:
        AgentBadge.objects.filter(pk__in=stale).delete()
    AgentBadge.objects.bulk_create(
        [
            AgentBadge(
                agent_id=award.agent_id,
                badge=award.badge,
                window_start=award.window_start,
                earned_on=award.earned_on,
                evidence=award.evidence[:300],
            )
            for award in wanted.values()
        ],
        update_conflicts=True,
        unique_fields=["agent", "badge", "window_start"],
        update_fields=["earned_on", "evidence"],
    )
    return [award for key, award in wanted.items() if key not in held]


def badge_save(*, badge: Badge) -> Badge:
    """Save an admin's badge and re-derive everyone's badges after commit (in a task: the
    embedded default runs it inline)."""
    from rewards.tasks import reconcile_all

    with transaction.atomic():
        badge.save()
        reconcile_all.delay_on_commit()
    return badge
