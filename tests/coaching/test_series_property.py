"""A one-to-one series books each of its slots once: whatever days pass, however often beat
extends it, and whichever booked sessions are moved or cancelled meanwhile, every slot of the
series within the horizon has exactly one session, at the series' local time unless it was moved,
and a moved or cancelled slot is never booked again."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching.models import CoachingSession, SessionSeries
from coaching.services.sessions import (
    SERIES_HORIZON_WEEKS,
    series_create,
    series_extend,
    session_cancel,
    session_reschedule,
)

pytestmark = pytest.mark.django_db

STEP = st.one_of(
    st.tuples(st.just("days"), st.integers(1, 20)),
    st.tuples(st.just("extend"), st.just(0)),
    st.tuples(st.just("move"), st.integers(0, 5)),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(every_weeks=st.integers(1, 3), steps=st.lists(STEP, max_size=12))
def test_every_slot_is_booked_once_whatever_moves_and_cancellations(
    alice, bob, monkeypatch, every_weeks, steps
):
    CoachingSession.objects.all().delete()
    SessionSeries.objects.all().delete()
    real_now = timezone.now
    offset = timedelta()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + offset)
    zone = ZoneInfo(alice.team.time_zone)
    first = datetime.combine(
        timezone.localdate() + timedelta(days=1), datetime.min.time(), tzinfo=zone
    ).replace(hour=9, minute=30)
    series = series_create(agent=alice, coach=bob, first_at=first, every_weeks=every_weeks)
    moved: set[datetime] = set()
    for action, value in steps:
        scheduled = list(
            series.sessions.filter(status="scheduled", scheduled_at__gt=timezone.now()).order_by(
                "scheduled_at"
            )
        )
        if action == "days":
            offset += timedelta(days=value)
        elif action == "extend":
            series_extend(series=series)
        elif scheduled:
            session = scheduled[value % len(scheduled)]
            if action == "move":
                session_reschedule(
                    session=session,
                    scheduled_at=session.scheduled_at + timedelta(hours=2),
                    duration_minutes=session.duration_minutes,
                    by=bob,
                )
                moved.add(session.occurrence_at)
            else:
                session_cancel(session=session, reason="Away", by=bob)
    series_extend(series=series)

    sessions = list(series.sessions.all())
    slots = [session.occurrence_at for session in sessions]
    assert len(slots) == len(set(slots))  # each slot booked at most once
    now = timezone.now()
    horizon = timezone.localtime(now, zone).date() + timedelta(weeks=SERIES_HORIZON_WEEKS)
    expected = set()
    day = first.date()
    while day <= horizon:
        slot = datetime.combine(day, first.timetz())
        if slot > now:
            expected.add(slot)
        day += timedelta(weeks=every_weeks)
    assert expected <= set(slots)  # every slot still ahead is booked
    for session in sessions:
        local = timezone.localtime(session.occurrence_at, zone)
        assert (local.hour, local.minute) == (9, 30)
        assert ((local.date() - first.date()).days) % (7 * every_weeks) == 0
        if session.occurrence_at not in moved:
            assert session.scheduled_at == session.occurrence_at
