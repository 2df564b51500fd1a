"""Coaching sessions: scheduled by a lead from flags (or none), rescheduled, cancelled, held
with notes, outcome, action items and a follow-up date, acknowledged by the agent.

State changes are compare-and-swaps on the status, so a double submit or a stale page changes
nothing twice. Notices and calendar invitations go out after commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from coaching.calendar import session_calendar
from coaching.models import ActionItem, CoachingFlag, CoachingSession, SessionSeries
from coaching.models.sessions import (
    MAX_DURATION_MINUTES,
    MAX_EVERY_WEEKS,
    MIN_DURATION_MINUTES,
    TEXT_MAX_LENGTH,
)
from coaching.services.flags import flags_mark_used
from coaching.tasks import send_session_invitations as send_session_invitations_task
from performance.models import Agent
from performance.selectors import local_today_resolver
from performance.services.notifications import Notice, notices_send, user_languages

# A session may be logged after the fact, or booked up to a year ahead.
MAX_DAYS_BACK = 90
MAX_DAYS_AHEAD = 366


def agent_zone(agent: Agent) -> ZoneInfo:
    return ZoneInfo(agent.team.time_zone)


def agent_today(agent: Agent) -> date:
    return local_today_resolver([agent.pk])(agent.pk, timezone.localdate())


def _when(session: CoachingSession) -> str:
    local = timezone.localtime(session.scheduled_at, agent_zone(session.agent))
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


def _name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.username


def _session_url(session: CoachingSession) -> str:
    return reverse("coaching:session", args=[session.pk])


def _text(value: str, *, field_name: str, required_message: str = "") -> str:
    value = (value or "").strip()
    if required_message and not value:
        raise ValidationError({field_name: required_message})
    if len(value) > TEXT_MAX_LENGTH:
        raise ValidationError(
            {
                field_name: _("At most %(limit)s characters, please (this has %(length)s).")
                % {"limit": TEXT_MAX_LENGTH, "length": len(value)}
            }
        )
    return value


def _check_time(scheduled_at: datetime, duration_minutes: int) -> None:
    errors: dict[str, str] = {}
    if timezone.is_naive(scheduled_at):
        raise ValueError("scheduled_at must be aware")
    now = timezone.now()
    if scheduled_at < now - timedelta(days=MAX_DAYS_BACK):
        errors["scheduled_at"] = _(
            "A session can be logged at most %(days)s days after it took place."
        ) % {"days": MAX_DAYS_BACK}
    elif scheduled_at > now + timedelta(days=MAX_DAYS_AHEAD):
        errors["scheduled_at"] = _("Schedule a session at most a year ahead.")
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = _("A session lasts %(low)s to %(high)s minutes.") % {
            "low": MIN_DURATION_MINUTES,
            "high": MAX_DURATION_MINUTES,
        }
    if errors:
        raise ValidationError(errors)


def _check_flags(agent: Agent, flags: Sequence[CoachingFlag]) -> None:
    foreign = [flag for flag in flags if flag.agent_id != agent.pk]
    if foreign:
        raise ValidationError({"flags": _("A session works on the flags of its own agent only.")})
    closed = [flag for flag in flags if not flag.is_open]
    if closed:
        raise ValidationError(
            {
                "flags": _("The flag on %(standard)s is no longer open.")
                % {"standard": closed[0].standard.name}
            }
        )


def _lock(session: CoachingSession) -> CoachingSession:
    """The session's row, locked, as it is now (a stale page's copy is never trusted)."""
    return (
        CoachingSession.objects.select_for_update()
        .select_related("agent__user", "agent__team", "coach")
        .get(pk=session.pk)
    )


def _refuse(session: CoachingSession) -> ValidationError:
    return ValidationError(
        _("This session is %(status)s: it cannot be changed that way.")
        % {"status": session.get_status_display().lower()}
    )


def _invite_after_commit(session: CoachingSession) -> None:
    """Send the invitation as it stands after commit; the session counts as invited."""
    if not session.invited:
        CoachingSession.objects.filter(pk=session.pk).update(invited=True)
        session.invited = True
    send_session_invitations_task.delay_on_commit(session.pk)


def _tell_agent(session: CoachingSession, key: str, message) -> None:
    transaction.on_commit(
        lambda: notices_send(
            [
                Notice(
                    user_id=session.agent.user_id,
                    key=f"session:{session.pk}:{key}",
                    kind="coaching",
                    message=message,
                    url=_session_url(session),
                )
            ]
        )
    )


def session_schedule(
    *,
    agent: Agent,
    coach: AbstractBaseUser,
    scheduled_at: datetime,
    duration_minutes: int = 30,
    flags: Sequence[CoachingFlag] = (),
    agenda: str | None = None,
    created_by: AbstractBaseUser | None = None,
    invite: bool = True,
) -> CoachingSession:
    """Book a session; its agenda starts from the flags' evidence unless one is given. The
    flags count as used from now on (a correction marks them instead of withdrawing them).
    Coach and agent get an invitation, unless the session is logged after the fact (or the
    caller, the demo, says not to)."""
    from coaching.selectors.sessions import agenda_from_flags

    if agent.user_id == coach.pk:
        raise ValidationError({"agent": _("Nobody coaches themself: choose another agent.")})
    flags = list(flags)
    _check_flags(agent, flags)
    _check_time(scheduled_at, duration_minutes)
    agenda = _text(agenda if agenda is not None else agenda_from_flags(flags), field_name="agenda")
    with transaction.atomic():
        session = CoachingSession.objects.create(
            agent=agent,
            coach=coach,
            scheduled_at=scheduled_at,
            duration_minutes=duration_minutes,
            agenda=agenda,
            created_by=created_by or coach,
        )
        session.flags.set(flags)
        flags_mark_used(flag_ids=[flag.pk for flag in flags])
        coach_name = _name(coach)
        _tell_agent(
            session,
            "scheduled",
            lambda: (
                _("%(coach)s scheduled a coaching session with you on %(when)s.")
                % {"coach": coach_name, "when": _when(session)}
            ),
        )
        if invite and scheduled_at > timezone.now():
            _invite_after_commit(session)
    return session


def sessions_schedule_back_to_back(
    *,
    flags: Sequence[CoachingFlag],
    coach: AbstractBaseUser,
    starts_at: datetime,
    duration_minutes: int = 30,
) -> list[CoachingSession]:
    """The queue's bulk action: one session per agent of the chosen flags, one after the
    other from `starts_at`, all or none."""
    by_agent: dict[int, list[CoachingFlag]] = {}
    for flag in flags:
        by_agent.setdefault(flag.agent_id, []).append(flag)
    if not by_agent:
        raise ValidationError({"flags": _("Choose at least one flag.")})
    sessions = []
    with transaction.atomic():
        for index, agent_flags in enumerate(by_agent.values()):
            sessions.append(
                session_schedule(
                    agent=agent_flags[0].agent,
                    coach=coach,
                    scheduled_at=starts_at + timedelta(minutes=duration_minutes * index),
                    duration_minutes=duration_minutes,
                    flags=agent_flags,
                )
            )
    return sessions


def session_reschedule(
    *,
    session: CoachingSession,
    scheduled_at: datetime,
    duration_minutes: int,
    by: AbstractBaseUser,
) -> CoachingSession:
    _check_time(scheduled_at, duration_minutes)
    with transaction.atomic():
        session = _lock(session)
        if not session.is_scheduled:
            raise _refuse(session)
        if (session.scheduled_at, session.duration_minutes) == (scheduled_at, duration_minutes):
            return session
        session.scheduled_at = scheduled_at
        session.duration_minutes = duration_minutes
        session.sequence += 1
        session.save(update_fields=["scheduled_at", "duration_minutes", "sequence", "updated_at"])
        name = _name(by)
        invite = session.invited or scheduled_at > timezone.now()
        _tell_agent(
            session,
            f"moved:{session.sequence}",
            lambda: (
                _("%(coach)s moved your coaching session to %(when)s.")
                % {"coach": name, "when": _when(session)}
            ),
        )
        if invite:
            _invite_after_commit(session)
    return session


def session_cancel(
    *, session: CoachingSession, reason: str, by: AbstractBaseUser
) -> CoachingSession:
    reason = _text(
        reason,
        field_name="reason",
        required_message=_("Say why the session is cancelled: the agent reads it."),
    )
    with transaction.atomic():
        session = _lock(session)
        if not session.is_scheduled:
            raise _refuse(session)
        session.status = CoachingSession.Status.CANCELLED
        session.cancelled_reason = reason
        session.sequence += 1
        session.save(update_fields=["status", "cancelled_reason", "sequence", "updated_at"])
        name = _name(by)
        _tell_agent(
            session,
            "cancelled",
            lambda: (
                _("%(coach)s cancelled your coaching session of %(when)s: %(reason)s")
                % {"coach": name, "when": _when(session), "reason": reason}
            ),
        )
        if session.invited:
            _invite_after_commit(session)
    return session


def session_record(
    *,
    session: CoachingSession,
    notes: str,
    outcome: str,
    follow_up_on: date | None,
    held: bool,
    by: AbstractBaseUser,
) -> CoachingSession:
    """The coach's record: notes, outcome and follow-up date, editable until the agent has
    acknowledged them; `held` marks a scheduled session as held (and asks the agent to read
    and acknowledge it)."""
    notes = _text(notes, field_name="notes")
    outcome = _text(outcome, field_name="outcome")
    with transaction.atomic():
        session = _lock(session)
        if session.status == CoachingSession.Status.CANCELLED:
            raise _refuse(session)
        if session.acknowledged_at is not None:
            raise ValidationError(
                _("The agent has acknowledged this session: its record is final.")
            )
        day = timezone.localtime(session.scheduled_at, agent_zone(session.agent)).date()
        if follow_up_on is not None and not day < follow_up_on <= day + timedelta(
            days=MAX_DAYS_AHEAD
        ):
            raise ValidationError(
                {"follow_up_on": _("A follow-up comes after the session, within a year.")}
            )
        becomes_held = held and session.is_scheduled
        if becomes_held and session.scheduled_at > timezone.now():
            raise ValidationError(
                {"held": _("A session cannot be held before its scheduled time.")}
            )
        if becomes_held and not notes:
            raise ValidationError(
                {"notes": _("Write what you talked about before marking the session held.")}
            )
        session.notes, session.outcome, session.follow_up_on = notes, outcome, follow_up_on
        fields = ["notes", "outcome", "follow_up_on", "updated_at"]
        if becomes_held:
            session.status = CoachingSession.Status.HELD
            session.held_at = timezone.now()
            fields += ["status", "held_at"]
        session.save(update_fields=fields)
        if becomes_held:
            name = _name(by)
            _tell_agent(
                session,
                "held",
                lambda: (
                    _(
                        "%(coach)s wrote up your coaching session of %(when)s: read it and "
                        "acknowledge it."
                    )
                    % {"coach": name, "when": _when(session)}
                ),
            )
    return session


def session_acknowledge(
    *, session: CoachingSession, user: AbstractBaseUser, comment: str = ""
) -> CoachingSession:
    """The agent confirms they read the held session ("dar ciência"), once."""
    comment = _text(comment, field_name="comment")
    if session.agent.user_id != user.pk:
        raise ValidationError(_("Only the agent of a session acknowledges it."))
    with transaction.atomic():
        acknowledged = CoachingSession.objects.filter(
            pk=session.pk, status=CoachingSession.Status.HELD, acknowledged_at__isnull=True
        ).update(acknowledged_at=timezone.now(), acknowledgement=comment)
        if acknowledged != 1:
            session = CoachingSession.objects.get(pk=session.pk)
            if session.acknowledged_at is not None:
                raise ValidationError(_("You acknowledged this session already."))
            raise ValidationError(_("A session is acknowledged once it has been held."))
        session.refresh_from_db()
        agent_name = session.agent.display_name
        transaction.on_commit(
            lambda: notices_send(
                [
                    Notice(
                        user_id=session.coach_id,
                        key=f"session:{session.pk}:acknowledged",
                        kind="coaching",
                        message=lambda: (
                            _("%(agent)s acknowledged the coaching session of %(when)s.")
                            % {"agent": agent_name, "when": _when(session)}
                        ),
                        url=_session_url(session),
                    )
                ]
            )
        )
    return session


def action_item_add(
    *, session: CoachingSession, description: str, owner: str, due_on: date | None
) -> ActionItem:
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Say what is to be done.")})
    if len(description) > 300:
        raise ValidationError({"description": _("At most 300 characters, please.")})
    if owner not in ActionItem.Owner.values:
        raise ValidationError({"owner": _("Choose who owns it.")})
    with transaction.atomic():
        session = _lock(session)
        if session.status == CoachingSession.Status.CANCELLED:
            raise _refuse(session)
        if due_on is not None and due_on > agent_today(session.agent) + timedelta(
            days=MAX_DAYS_AHEAD
        ):
            raise ValidationError({"due_on": _("Give a due date within a year.")})
        return ActionItem.objects.create(
            session=session, description=description, owner=owner, due_on=due_on
        )


def action_item_set_done(*, item: ActionItem, done: bool) -> ActionItem:
    """Tick or untick an item; setting it to what it already is changes nothing."""
    if done:
        ActionItem.objects.filter(pk=item.pk, done_at__isnull=True).update(done_at=timezone.now())
    else:
        ActionItem.objects.filter(pk=item.pk).update(done_at=None)
    item.refresh_from_db()
    return item


def session_follow_ups_notify(*, sessions: Iterable[CoachingSession] | None = None) -> int:
    """Tell each coach, once, that a held session's follow-up date has come (in the agent's
    zone); beat runs it every hour."""
    if sessions is None:
        sessions = CoachingSession.objects.select_related("agent__team", "agent__user").filter(
            status=CoachingSession.Status.HELD,
            follow_up_on__isnull=False,
            follow_up_on__lte=timezone.localdate() + timedelta(days=1),
        )
    notices = []
    for session in sessions:
        if session.follow_up_on > agent_today(session.agent):
            continue
        agent_name = session.agent.display_name
        notices.append(
            Notice(
                user_id=session.coach_id,
                key=f"session:{session.pk}:follow-up",
                kind="coaching",
                message=lambda name=agent_name, session=session: (
                    _("Follow-up due: the coaching session with %(agent)s of %(when)s.")
                    % {"agent": name, "when": _when(session)}
                ),
                url=_session_url(session),
            )
        )
    return notices_send(notices)


def session_invitations_send(*, session_id: int) -> int:
    """E-mail the session's invitation as it stands (.ics attached) to the coach and the
    agent, each in their language; returns how many went."""
    session = (
        CoachingSession.objects.select_related("agent__user", "agent__team", "coach")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return 0
    people = [person for person in (session.coach, session.agent.user) if person.email]
    languages = user_languages({person.pk for person in people})
    sent = 0
    for person in people:
        with translation.override(languages[person.pk]):
            subject = (
                _("Cancelled: coaching session of %(when)s")
                if session.status == CoachingSession.Status.CANCELLED
                else _("Coaching session: %(agent)s, %(when)s")
            ) % {"agent": session.agent.display_name, "when": _when(session)}
            body = "\n\n".join(
                part
                for part in (
                    session.agenda,
                    session.cancelled_reason,
                    f"{settings.SITE_URL}{_session_url(session)}",
                )
                if part
            )
            message = EmailMessage(subject=subject, body=body, to=[person.email])
            message.attach("coaching-session.ics", session_calendar(session), "text/calendar")
            message.send()
        sent += 1
    return sent


# Recurring one-to-ones.

SERIES_HORIZON_WEEKS = 6


def series_create(
    *,
    agent: Agent,
    coach: AbstractBaseUser,
    first_at: datetime,
    every_weeks: int,
    duration_minutes: int = 30,
    ends_on: date | None = None,
) -> SessionSeries:
    """One-to-ones every N weeks at the first one's local time; the first few are booked
    now (each told to the agent and invited like any session), the rest by beat."""
    if agent.user_id == coach.pk:
        raise ValidationError({"agent": _("Nobody coaches themself: choose another agent.")})
    if not 1 <= every_weeks <= MAX_EVERY_WEEKS:
        raise ValidationError(
            {"every_weeks": _("Repeat every 1 to %(most)s weeks.") % {"most": MAX_EVERY_WEEKS}}
        )
    _check_time(first_at, duration_minutes)
    if first_at <= timezone.now():
        raise ValidationError({"scheduled_at": _("A series starts in the future.")})
    local = timezone.localtime(first_at, agent_zone(agent))
    if ends_on is not None and ends_on < local.date():
        raise ValidationError({"ends_on": _("The series ends after its first session.")})
    with transaction.atomic():
        series = SessionSeries.objects.create(
            agent=agent,
            coach=coach,
            first_on=local.date(),
            local_time=local.time().replace(second=0, microsecond=0),
            every_weeks=every_weeks,
            duration_minutes=duration_minutes,
            ends_on=ends_on,
        )
        series_extend(series=series)
    return series


def _occurrences(series: SessionSeries, *, until: date) -> Iterable[datetime]:
    zone = agent_zone(series.agent)
    last = min(until, series.ends_on) if series.ends_on else until
    day = series.first_on
    while day <= last:
        # The same wall-clock time each time, across daylight-saving changes.
        yield datetime.combine(day, series.local_time, tzinfo=zone)
        day += timedelta(weeks=series.every_weeks)


def series_extend(*, series: SessionSeries) -> int:
    """Book the series' occurrences from now to the horizon that are not booked yet (a
    cancelled one stays cancelled); returns how many were booked."""
    if not series.is_active:
        return 0
    series = SessionSeries.objects.select_related("agent__team", "agent__user", "coach").get(
        pk=series.pk
    )
    now = timezone.now()
    booked = set(series.sessions.values_list("occurrence_at", flat=True))
    until = agent_today(series.agent) + timedelta(weeks=SERIES_HORIZON_WEEKS)
    made = 0
    for at in _occurrences(series, until=until):
        if at <= now or at in booked:
            continue
        with transaction.atomic():
            session = session_schedule(
                agent=series.agent,
                coach=series.coach,
                scheduled_at=at,
                duration_minutes=series.duration_minutes,
                agenda=_("One-to-one"),
            )
            session.series = series
            session.occurrence_at = at
            session.save(update_fields=["series", "occurrence_at", "updated_at"])
        made += 1
    return made


def series_extend_all() -> int:
    """Beat, daily: every active series booked to the horizon."""
    return sum(
        series_extend(series=series)
        for series in SessionSeries.objects.filter(stopped_at__isnull=True)
    )


def series_stop(*, series: SessionSeries, by: AbstractBaseUser) -> int:
    """Stop a series: no more bookings, and its booked sessions still ahead are cancelled
    (the agent told). Returns how many were cancelled."""
    stopped = SessionSeries.objects.filter(pk=series.pk, stopped_at__isnull=True).update(
        stopped_at=timezone.now()
    )
    if not stopped:
        raise ValidationError(_("This series is already stopped."))
    ahead = CoachingSession.objects.filter(
        series=series, status=CoachingSession.Status.SCHEDULED, scheduled_at__gt=timezone.now()
    )
    cancelled = 0
    for session in ahead:
        session_cancel(session=session, reason=_("The one-to-one series was stopped."), by=by)
        cancelled += 1
    return cancelled
