"""A coaching session as an iCalendar invitation (RFC 5545), for the coach's and the agent's
calendars: one UID per session, SEQUENCE bumped on every change, CANCEL when called off."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from coaching.models import CoachingSession


def session_uid(session: CoachingSession) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "atendo"
    return f"coaching-session-{session.pk}@{host}"


def _address(user, role: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email or user.username}")
    address.params["cn"] = vText(user.get_full_name() or user.username)
    address.params["role"] = vText(role)
    return address


def session_calendar(session: CoachingSession) -> bytes:
    """The invitation as it stands: METHOD:REQUEST, or METHOD:CANCEL once cancelled."""
    cancelled = session.status == CoachingSession.Status.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", "-//Atendo//Coaching sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", session_uid(session))
    event.add("sequence", session.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", session.scheduled_at)
    event.add("dtend", session.scheduled_at + timedelta(minutes=session.duration_minutes))
    event.add(
        "summary",
        _("Coaching session: %(agent)s with %(coach)s")
        % {
            "agent": session.agent.display_name,
            "coach": session.coach.get_full_name() or session.coach.username,
        },
    )
    event.add("description", session.agenda)
    event.add("url", f"{settings.SITE_URL}{reverse('coaching:session', args=[session.pk])}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", _address(session.coach, "CHAIR"))
    event.add("attendee", _address(session.agent.user, "REQ-PARTICIPANT"))
    calendar.add_component(event)
    return calendar.to_ical()
