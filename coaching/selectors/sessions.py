"""Reads of coaching sessions: who may see and run them, an agenda from the flags' evidence,
an agent's and a lead's sessions, and whether coaching worked (the metric over the N closed
periods before a session against the N after it), per session and rolled up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from coaching.models import ActionItem, CoachingFlag, CoachingSession
from coaching.selectors.flags import flag_evidence, flag_goal
from performance.access import agents_visible_to
from performance.metrics import Direction, Metric
from performance.models import Agent, Evaluation, ServiceStandard
from performance.periods import Period, period_containing
from performance.roles import is_team_lead
from performance.selectors import local_today_resolver
from performance.templatetags.metric_format import format_metric_value


def sessions_visible_to(user: AbstractBaseUser) -> QuerySet[CoachingSession]:
    """The sessions of the agents a user may see (an agent: their own; a lead: their
    teams'; an admin: all)."""
    return CoachingSession.objects.select_related("agent__user", "agent__team", "coach").filter(
        agent__in=agents_visible_to(user).values("pk")
    )


def flag_sessions(user: AbstractBaseUser, flag: CoachingFlag) -> list[CoachingSession]:
    """The sessions that worked on a flag, newest first, as far as the user may see them."""
    return list(
        sessions_visible_to(user)
        .filter(flags=flag)
        .prefetch_related("flags__standard")
        .order_by("-scheduled_at")
    )


def session_for_user_or_404(user: AbstractBaseUser, session_id: int) -> CoachingSession:
    try:
        return sessions_visible_to(user).get(pk=session_id)
    except CoachingSession.DoesNotExist:
        raise Http404(gettext("No such coaching session")) from None


def may_run(user: AbstractBaseUser, session: CoachingSession) -> bool:
    """Leads run the sessions of the agents they lead (reached through
    session_for_user_or_404), never their own."""
    return is_team_lead(user) and session.agent.user_id != user.pk


def agenda_from_flags(flags: list[CoachingFlag]) -> str:
    """The agenda a session starts with: each flag's goal and its missed periods against
    the target, in the active language."""
    lines: list[str] = []
    for flag in flags:
        metric = flag.standard.metric_definition
        lines.append(f"• {flag_goal(flag.standard)}")
        for row in flag_evidence(flag):
            lines.append(
                "  - "
                + gettext("%(period)s: %(value)s (target %(target)s)")
                % {
                    "period": row.period.label,
                    "value": format_metric_value(row.value, metric),
                    "target": format_metric_value(row.target, metric),
                }
            )
        if flag.note:
            lines.append(f"  {flag.note}")
    return "\n".join(lines)


def session_detail(session: CoachingSession) -> CoachingSession:
    """The session with its flags (and their standards) and action items, fetched once."""
    return (
        CoachingSession.objects.select_related("agent__user", "agent__team", "coach", "series")
        .prefetch_related(
            Prefetch("flags", queryset=CoachingFlag.objects.select_related("standard")),
            "action_items",
        )
        .get(pk=session.pk)
    )


@dataclass(frozen=True)
class AgentSessions:
    upcoming: list[CoachingSession]
    to_acknowledge: list[CoachingSession]
    past: list[CoachingSession]
    open_items: list[ActionItem]


def agent_sessions(agent: Agent, *, past_limit: int = 10) -> AgentSessions:
    """An agent's coaching sessions: booked ones, held ones still to acknowledge, the
    latest others, and the action items still open (four queries)."""
    sessions = CoachingSession.objects.select_related("coach", "agent__team").filter(agent=agent)
    now = timezone.now()
    return AgentSessions(
        upcoming=list(
            sessions.filter(status=CoachingSession.Status.SCHEDULED).order_by("scheduled_at")
        ),
        to_acknowledge=list(
            sessions.filter(
                status=CoachingSession.Status.HELD, acknowledged_at__isnull=True
            ).order_by("scheduled_at")
        ),
        past=list(
            sessions.filter(
                Q(status=CoachingSession.Status.CANCELLED, scheduled_at__lte=now)
                | Q(status=CoachingSession.Status.HELD, acknowledged_at__isnull=False)
            ).order_by("-scheduled_at")[:past_limit]
        ),
        open_items=list(
            ActionItem.objects.select_related("session")
            .filter(session__agent=agent, done_at__isnull=True)
            .exclude(session__status=CoachingSession.Status.CANCELLED)
            .order_by(F("due_on").asc(nulls_last=True), "id")
        ),
    )


def lead_sessions(user: AbstractBaseUser) -> tuple[QuerySet, QuerySet]:
    """The sessions of a lead's agents (never their own): the booked ones, soonest first,
    and the others, latest first."""
    sessions = (
        sessions_visible_to(user).exclude(agent__user=user).prefetch_related("flags__standard")
    )
    booked = sessions.filter(status=CoachingSession.Status.SCHEDULED).order_by("scheduled_at")
    others = sessions.exclude(status=CoachingSession.Status.SCHEDULED).order_by(
        "-scheduled_at", "-id"
    )
    return booked, others


def lead_upcoming_sessions(user: AbstractBaseUser, *, limit: int = 3) -> list[CoachingSession]:
    """The next sessions booked with a lead's agents (never their own), soonest first."""
    return list(
        sessions_visible_to(user)
        .exclude(agent__user=user)
        .filter(status=CoachingSession.Status.SCHEDULED, scheduled_at__gte=timezone.now())
        .order_by("scheduled_at")[:limit]
    )


# Effectiveness.


@dataclass(frozen=True)
class Effect:
    """One linked standard's metric over the N closed periods before a session and the N
    after it; `after` is None until those have all closed."""

    standard: ServiceStandard
    metric: Metric
    periods: int
    before: float | None
    after: float | None
    ready_on: date

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def improvement(self) -> float | None:
        """The change, positive when the metric moved the right way."""
        change = self.change
        if change is None:
            return None
        return change if self.metric.direction is Direction.HIGHER else -change

    @property
    def improved(self) -> bool | None:
        improvement = self.improvement
        return None if improvement is None else improvement > 0


def _windows(
    session: CoachingSession, standard: ServiceStandard
) -> tuple[list[Period], list[Period]]:
    """The N periods before the one holding the session's local day, and the N after it."""
    day = timezone.localtime(session.scheduled_at, _zone(session.agent)).date()
    current = period_containing(day, standard.period)
    before, after = [], []
    cursor = current
    for _ in range(standard.coaching_window):
        cursor = cursor.previous()
        before.insert(0, cursor)
    cursor = current
    for _ in range(standard.coaching_window):
        cursor = cursor.next()
        after.append(cursor)
    return before, after


def _zone(agent: Agent) -> ZoneInfo:
    return ZoneInfo(agent.team.time_zone)


def _combined(rows: list[tuple[float, int]], *, weighted: bool) -> float | None:
    """The metric over several periods from each period's value: weighted by sample size
    when the metric is a ratio or a mean (so it equals the metric over their rows), plain
    mean for a count (volume)."""
    rows = [(value, sample) for value, sample in rows if value is not None and sample]
    if not rows:
        return None
    if not weighted:
        return sum(value for value, _ in rows) / len(rows)
    return sum(value * sample for value, sample in rows) / sum(sample for _, sample in rows)


def effects_of(sessions: list[CoachingSession]) -> dict[int, list[Effect]]:
    """Session id -> one Effect per linked standard (held sessions only), in one query for
    all the evaluations involved. The sessions' flags and standards must be prefetched."""
    held = [session for session in sessions if session.is_held]
    if not held:
        return {}
    today = local_today_resolver({session.agent_id for session in held})
    plans = []
    wanted = Q()
    for session in held:
        standards = {flag.standard_id: flag.standard for flag in session.flags.all()}
        for standard in standards.values():
            before, after = _windows(session, standard)
            plans.append((session, standard, before, after))
            wanted |= Q(
                agent_id=session.agent_id,
                standard_id=standard.pk,
                period_start__gte=before[0].start,
                period_start__lte=after[-1].start,
            )
    values: dict[tuple[int, int, date], tuple[float, int]] = {
        (agent_id, standard_id, start): (value, sample)
        for agent_id, standard_id, start, value, sample in Evaluation.objects.filter(
            wanted
        ).values_list("agent_id", "standard_id", "period_start", "value", "sample_size")
    }
    effects: dict[int, list[Effect]] = defaultdict(list)
    for session, standard, before, after in plans:
        metric = standard.metric_definition
        weighted = metric.aggregates(standard.threshold_seconds, Q()).denominator is not None

        key = (session.agent_id, standard.pk)

        def over(periods: list[Period], key=key, weighted=weighted) -> float | None:
            return _combined(
                [values.get((*key, period.start), (None, 0)) for period in periods],
                weighted=weighted,
            )

        closed = after[-1].end <= today(session.agent_id, after[-1].start)
        effects[session.pk].append(
            Effect(
                standard=standard,
                metric=metric,
                periods=len(before),
                before=over(before),
                after=over(after) if closed else None,
                ready_on=after[-1].end,
            )
        )
    return dict(effects)


@dataclass(frozen=True)
class EffectRollup:
    """Sessions of one coach on one standard whose after-periods have closed."""

    coach_name: str
    standard: ServiceStandard
    sessions: int
    improved: int
    mean_improvement: float


def effectiveness_rollup(user: AbstractBaseUser) -> list[EffectRollup]:
    """Per coach and standard, over the held sessions a user may see: how far the metric
    moved the right way on average (in the metric's own units), and how often."""
    sessions = list(
        sessions_visible_to(user)
        .filter(status=CoachingSession.Status.HELD)
        .prefetch_related(
            Prefetch("flags", queryset=CoachingFlag.objects.select_related("standard"))
        )
    )
    grouped: dict[tuple[int, int], list[float]] = defaultdict(list)
    standards: dict[int, ServiceStandard] = {}
    coaches: dict[int, str] = {}
    effects = effects_of(sessions)
    for session in sessions:
        coaches[session.coach_id] = session.coach.get_full_name() or session.coach.username
        for effect in effects.get(session.pk, []):
            if effect.improvement is None:
                continue
            standards[effect.standard.pk] = effect.standard
            grouped[(session.coach_id, effect.standard.pk)].append(effect.improvement)
    rollups = [
        EffectRollup(
            coach_name=coaches[coach_id],
            standard=standards[standard_id],
            sessions=len(improvements),
            improved=sum(1 for value in improvements if value > 0),
            mean_improvement=sum(improvements) / len(improvements),
        )
        for (coach_id, standard_id), improvements in grouped.items()
    ]
    return sorted(rollups, key=lambda rollup: (rollup.standard.name, rollup.coach_name))
