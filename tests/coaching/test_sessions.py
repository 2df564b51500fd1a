"""Coaching sessions: scheduling from flags (agenda from the evidence, flags marked used,
the agent told, invitations e-mailed), moving, cancelling, holding with notes, action items,
acknowledgement once, follow-up reminders once, and the pages per role."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from coaching.models import ActionItem, CoachingFlag, CoachingSession
from coaching.services.flags import FlagScope, flags_derive
from coaching.services.sessions import (
    action_item_add,
    action_item_set_done,
    session_acknowledge,
    session_cancel,
    session_follow_ups_notify,
    session_record,
    session_reschedule,
    session_schedule,
    sessions_schedule_back_to_back,
)
from performance.models import Notification
from tests.coaching.helpers import weeks
from tests.factories import make_standard
from tests.html import texts_by_testid
from tests.scenarios import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def fcr(db):
    return make_standard(name="FCR", metric="fcr", period="week", target=85)


@pytest.fixture
def alice_flag(alice, fcr):
    weeks(alice, fcr, "M M", values={0: 60.0, 1: 70.0})
    flags_derive(scope=FlagScope(agent_ids=(alice.pk,)))
    return CoachingFlag.objects.get(agent=alice)


@pytest.fixture
def maria_flag(maria, fcr):
    weeks(maria, fcr, "M M")
    flags_derive(scope=FlagScope(agent_ids=(maria.pk,)))
    return CoachingFlag.objects.get(agent=maria)


def soon(hours: int = 24) -> datetime:
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a service sends after commit (notices, invitations) as it returns."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def booked(alice, bob, alice_flag, committed):
    with committed():
        return session_schedule(agent=alice, coach=bob, scheduled_at=soon(), flags=[alice_flag])


@pytest.fixture
def held(alice, bob, alice_flag, committed):
    with committed():
        session = session_schedule(
            agent=alice, coach=bob, scheduled_at=soon(-2), flags=[alice_flag]
        )
    with committed():
        return session_record(
            session=session,
            notes="We listened to two calls.",
            outcome="",
            follow_up_on=None,
            held=True,
            by=bob,
        )


def notices_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("key", flat=True))


class TestScheduling:
    def test_the_agenda_starts_from_the_flags_evidence_and_the_flags_count_as_used(
        self, booked, alice_flag
    ):
        assert "FCR" in booked.agenda
        assert "60 %" in booked.agenda and "70 %" in booked.agenda
        alice_flag.refresh_from_db()
        assert alice_flag.used_by_session_at is not None
        assert list(booked.flags.all()) == [alice_flag]

    def test_the_agent_is_told_and_both_get_an_invitation(self, booked, alice, bob):
        assert notices_of(alice.user) == [f"session:{booked.pk}:scheduled"]
        assert sorted(message.to[0] for message in mail.outbox) == [
            "alice@example.com",
            "bob@example.com",
        ]
        name, content, mimetype = mail.outbox[0].attachments[0]
        assert mimetype == "text/calendar" and name.endswith(".ics")
        event = Calendar.from_ical(content).walk("VEVENT")[0]
        assert event["uid"].startswith(f"coaching-session-{booked.pk}@")
        assert event.decoded("dtstart") == booked.scheduled_at
        assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=30)

    def test_flags_of_another_agent_or_closed_ones_are_refused(
        self, alice, maria, bob, alice_flag, maria_flag
    ):
        with pytest.raises(ValidationError, match="own agent"):
            session_schedule(agent=alice, coach=bob, scheduled_at=soon(), flags=[maria_flag])
        CoachingFlag.objects.filter(pk=alice_flag.pk).update(status="dismissed")
        alice_flag.refresh_from_db()
        with pytest.raises(ValidationError, match="no longer open"):
            session_schedule(agent=alice, coach=bob, scheduled_at=soon(), flags=[alice_flag])
        assert not CoachingSession.objects.exists()

    def test_times_out_of_bounds_and_self_coaching_are_refused(self, alice, bob):
        for when, minutes in (
            (timezone.now() - timedelta(days=100), 30),
            (timezone.now() + timedelta(days=400), 30),
            (soon(), 2),
            (soon(), 600),
        ):
            with pytest.raises(ValidationError):
                session_schedule(
                    agent=alice, coach=bob, scheduled_at=when, duration_minutes=minutes
                )
        with pytest.raises(ValidationError, match="themself"):
            session_schedule(agent=alice, coach=alice.user, scheduled_at=soon())
        assert not CoachingSession.objects.exists()

    def test_back_to_back_books_one_session_per_agent_one_after_the_other(
        self, bob, alice_flag, maria_flag
    ):
        start = soon()
        sessions = sessions_schedule_back_to_back(
            flags=[alice_flag, maria_flag], coach=bob, starts_at=start, duration_minutes=20
        )
        assert [(s.agent_id, s.scheduled_at) for s in sessions] == [
            (alice_flag.agent_id, start),
            (maria_flag.agent_id, start + timedelta(minutes=20)),
        ]


class TestLifecycle:
    def test_moving_bumps_the_invitation_and_tells_the_agent_each_time(
        self, booked, alice, bob, committed
    ):
        mail.outbox.clear()
        with committed():
            moved = session_reschedule(
                session=booked, scheduled_at=soon(48), duration_minutes=45, by=bob
            )
        assert moved.sequence == 1 and moved.duration_minutes == 45
        with committed():
            session_reschedule(session=booked, scheduled_at=soon(72), duration_minutes=45, by=bob)
        assert f"session:{booked.pk}:moved:2" in notices_of(alice.user)
        event = Calendar.from_ical(mail.outbox[-1].attachments[0][1]).walk("VEVENT")[0]
        assert event["sequence"] == 2

    def test_a_cancelled_session_sends_a_cancel_and_cannot_be_held(self, booked, bob, committed):
        with pytest.raises(ValidationError):
            session_cancel(session=booked, reason="  ", by=bob)
        with committed():
            session_cancel(session=booked, reason="Agent on leave", by=bob)
        calendar = Calendar.from_ical(mail.outbox[-1].attachments[0][1])
        assert calendar["method"] == "CANCEL"
        with pytest.raises(ValidationError, match="cancelled"):
            session_record(
                session=booked, notes="x", outcome="", follow_up_on=None, held=True, by=bob
            )
        with pytest.raises(ValidationError, match="cancelled"):
            session_cancel(session=booked, reason="again", by=bob)

    def test_holding_needs_notes_and_its_time_to_have_come(self, booked, bob):
        with pytest.raises(ValidationError, match="before its scheduled time"):
            session_record(
                session=booked, notes="x", outcome="", follow_up_on=None, held=True, by=bob
            )
        CoachingSession.objects.filter(pk=booked.pk).update(scheduled_at=soon(-1))
        with pytest.raises(ValidationError, match="Write what you talked about"):
            session_record(
                session=booked, notes=" ", outcome="", follow_up_on=None, held=True, by=bob
            )
        session = session_record(
            session=booked, notes="Talked", outcome="Better", follow_up_on=None, held=True, by=bob
        )
        assert session.is_held and session.held_at is not None

    def test_the_agent_acknowledges_once_and_the_record_is_then_final(
        self, held, alice, bob, committed
    ):
        assert f"session:{held.pk}:held" in notices_of(alice.user)
        with pytest.raises(ValidationError, match="Only the agent"):
            session_acknowledge(session=held, user=bob)
        with committed():
            session_acknowledge(session=held, user=alice.user, comment="Thanks")
        with pytest.raises(ValidationError, match="already"):
            session_acknowledge(session=held, user=alice.user)
        assert notices_of(bob) == [f"session:{held.pk}:acknowledged"]
        with pytest.raises(ValidationError, match="final"):
            session_record(
                session=held, notes="rewritten", outcome="", follow_up_on=None, held=True, by=bob
            )
        held.refresh_from_db()
        assert held.notes == "We listened to two calls." and held.acknowledgement == "Thanks"

    def test_a_scheduled_session_cannot_be_acknowledged(self, booked, alice):
        with pytest.raises(ValidationError, match="once it has been held"):
            session_acknowledge(session=booked, user=alice.user)

    def test_the_follow_up_reminds_the_coach_once_when_its_day_comes(self, held, bob):
        # The agent's today, not the session's day: held two hours ago, it may be yesterday.
        day = timezone.localdate(timezone=ZoneInfo(held.agent.team.time_zone))
        session_record(
            session=held,
            notes=held.notes,
            outcome="",
            follow_up_on=day + timedelta(days=1),
            held=False,
            by=bob,
        )
        assert session_follow_ups_notify() == 0
        CoachingSession.objects.filter(pk=held.pk).update(follow_up_on=day - timedelta(days=1))
        assert session_follow_ups_notify() == 1
        assert session_follow_ups_notify() == 0
        assert f"session:{held.pk}:follow-up" in notices_of(bob)

    def test_a_follow_up_before_the_session_is_refused(self, held, bob):
        with pytest.raises(ValidationError, match="after the session"):
            session_record(
                session=held,
                notes="x",
                outcome="",
                follow_up_on=held.scheduled_at.date(),
                held=False,
                by=bob,
            )

    def test_action_items_are_added_and_ticked_idempotently(self, held):
        item = action_item_add(
            session=held, description="Listen to 3 calls", owner="agent", due_on=None
        )
        with pytest.raises(ValidationError):
            action_item_add(session=held, description=" ", owner="agent", due_on=None)
        with pytest.raises(ValidationError):
            action_item_add(session=held, description="x", owner="boss", due_on=None)
        first = action_item_set_done(item=item, done=True).done_at
        assert action_item_set_done(item=item, done=True).done_at == first
        assert action_item_set_done(item=item, done=False).done_at is None


def page(session) -> str:
    return reverse("coaching:session", args=[session.pk])


class TestPagesPerRole:
    def test_anonymous_is_sent_to_log_in(self, client, booked):
        for url in (page(booked), reverse("coaching:sessions"), reverse("coaching:session-new")):
            response = client.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"]
        assert client.post(reverse("coaching:session-cancel", args=[booked.pk])).status_code == 302

    def test_the_lead_and_an_admin_see_it_others_get_404(
        self, client, booked, bob, carol, dave, maria, paulo
    ):
        for person, status in ((bob, 200), (dave, 200), (carol, 404), (maria, 404), (paulo, 404)):
            login(client, person)
            assert client.get(page(booked)).status_code == status, person
            invitation = reverse("coaching:session-invitation", args=[booked.pk])
            assert client.get(invitation).status_code == status, person

    def test_the_agent_reads_their_session_but_cannot_run_it(self, client, booked, alice):
        login(client, alice)
        response = client.get(page(booked))
        assert response.status_code == 200
        assert texts_by_testid(response.content, "record-form") == []
        assert texts_by_testid(response.content, "cancel-form") == []
        cancel = reverse("coaching:session-cancel", args=[booked.pk])
        assert client.post(cancel, {"cancel-reason": "no"}).status_code == 404
        record = reverse("coaching:session-record", args=[booked.pk])
        assert client.post(record, {"notes": "mine", "held": "on"}).status_code == 404
        booked.refresh_from_db()
        assert booked.is_scheduled and booked.notes == ""

    def test_a_lead_of_another_team_cannot_write(self, client, booked, carol):
        login(client, carol)
        cancel = reverse("coaching:session-cancel", args=[booked.pk])
        assert client.post(cancel, {"cancel-reason": "no"}).status_code == 404
        booked.refresh_from_db()
        assert booked.is_scheduled

    def test_a_lead_schedules_from_a_flag_and_the_form_reads_the_team_time(
        self, client, bob, alice, alice_flag
    ):
        login(client, bob)
        form = client.get(reverse("coaching:session-new"), {"flag": alice_flag.pk})
        assert form.status_code == 200
        day = (timezone.localdate() + timedelta(days=2)).isoformat()
        response = client.post(
            reverse("coaching:session-new"),
            {"flags": [alice_flag.pk], "day": day, "time": "14:30", "duration_minutes": 30},
        )
        session = CoachingSession.objects.get()
        assert response.status_code == 302 and response["Location"] == page(session)
        local = timezone.localtime(session.scheduled_at, ZoneInfo(alice.team.time_zone))
        assert (local.date().isoformat(), local.strftime("%H:%M")) == (day, "14:30")

    def test_a_lead_cannot_schedule_for_an_agent_of_another_team(self, client, carol, alice):
        login(client, carol)
        day = (timezone.localdate() + timedelta(days=2)).isoformat()
        response = client.post(
            reverse("coaching:session-new"),
            {"agent": alice.pk, "day": day, "time": "10:00", "duration_minutes": 30},
        )
        assert response.status_code == 400
        assert not CoachingSession.objects.exists()

    def test_bad_input_gets_its_message_and_writes_nothing(self, client, bob, alice):
        login(client, bob)
        response = client.post(
            reverse("coaching:session-new"),
            {"agent": alice.pk, "day": "2026-02-30", "time": "25:00", "duration_minutes": "x"},
        )
        assert response.status_code == 400
        assert not CoachingSession.objects.exists()
        body = response.content.decode()
        assert "Enter a valid date" in body and "Enter a valid time" in body

    def test_an_agent_acknowledges_on_the_page_and_ticks_their_own_items(self, client, held, alice):
        mine = action_item_add(session=held, description="Mine", owner="agent", due_on=None)
        coach = action_item_add(session=held, description="Coach's", owner="coach", due_on=None)
        login(client, alice)
        done = "coaching:item-done"
        assert client.post(reverse(done, args=[held.pk, mine.pk]), {"done": "1"}).status_code == 302
        assert (
            client.post(reverse(done, args=[held.pk, coach.pk]), {"done": "1"}).status_code == 404
        )
        assert ActionItem.objects.get(pk=mine.pk).is_done
        assert not ActionItem.objects.get(pk=coach.pk).is_done
        response = client.post(
            reverse("coaching:session-acknowledge", args=[held.pk]), {"comment": "Ok"}
        )
        assert response.status_code == 302
        held.refresh_from_db()
        assert held.acknowledged_at is not None
        again = client.post(reverse("coaching:session-acknowledge", args=[held.pk]), {})
        assert again.status_code == 400 and "already" in again.content.decode()

    def test_my_coaching_lists_what_to_acknowledge_and_upcoming(self, client, held, booked, alice):
        login(client, alice)
        body = client.get(reverse("coaching:me")).content.decode()
        to_read = body.index('data-testid="to-acknowledge"')
        upcoming = body.index('data-testid="upcoming"')
        assert to_read < body.index(f'href="{page(held)}"') < upcoming
        assert upcoming < body.index(f'href="{page(booked)}"')

    def test_the_sessions_list_is_for_leads(self, client, booked, bob, carol, alice):
        login(client, bob)
        assert f"session-{booked.pk}" in client.get(reverse("coaching:sessions")).content.decode()
        login(client, carol)
        assert (
            f"session-{booked.pk}" not in client.get(reverse("coaching:sessions")).content.decode()
        )
        login(client, alice)
        assert client.get(reverse("coaching:sessions"))["Location"] == reverse("coaching:me")


class TestEffectiveness:
    """FCR weekly, coaching window N = 3: the 3 closed weeks before the session's week
    against the 3 after it, weighted by each week's sample size."""

    @pytest.fixture
    def coached(self, alice, bob, fcr, alice_flag):
        from performance.models import Evaluation
        from tests.coaching.helpers import week

        weeks(alice, fcr, "M M M m m m m m", values={1: 60.0, 2: 70.0, 3: 80.0})
        for index, value in ((5, 90.0), (6, 80.0), (7, 85.0)):
            weeks(alice, fcr, "m", first=index, values={index: value})
        Evaluation.objects.filter(agent=alice, standard=fcr, period_start=week(1)).update(
            sample_size=10
        )
        session = session_schedule(
            agent=alice, coach=bob, scheduled_at=soon(-2), flags=[alice_flag]
        )
        wednesday = datetime.combine(
            week(4) + timedelta(days=2), datetime.min.time(), tzinfo=ZoneInfo("Europe/Lisbon")
        )
        CoachingSession.objects.filter(pk=session.pk).update(
            scheduled_at=wednesday.replace(hour=10), status="held", notes="x"
        )
        return CoachingSession.objects.get(pk=session.pk)

    def test_the_metric_before_and_after_is_weighted_by_sample(self, coached):
        from coaching.selectors import effects_of

        [effect] = effects_of([coached])[coached.pk]
        assert effect.periods == 3
        # Before: (60*10 + 70*5 + 80*5) / 20 = 67.5; after: (90 + 80 + 85) / 3 = 85.
        assert effect.before == pytest.approx(67.5)
        assert effect.after == pytest.approx(85.0)
        assert effect.improvement == pytest.approx(17.5) and effect.improved

    def test_after_waits_until_its_periods_have_closed(self, coached):
        from coaching.selectors import effects_of

        recent = soon(-2)
        CoachingSession.objects.filter(pk=coached.pk).update(scheduled_at=recent)
        coached.refresh_from_db()
        [effect] = effects_of([coached])[coached.pk]
        assert effect.after is None and effect.improvement is None
        assert effect.ready_on > timezone.localdate()

    def test_the_roll_up_per_coach_and_standard_and_its_page(self, client, coached, bob, alice):
        from coaching.selectors import effectiveness_rollup

        [rollup] = effectiveness_rollup(bob)
        assert (rollup.sessions, rollup.improved) == (1, 1)
        assert rollup.mean_improvement == pytest.approx(17.5)
        login(client, bob)
        response = client.get(reverse("coaching:effectiveness"))
        assert "17.5 p.p." in response.content.decode()
        login(client, alice)
        assert client.get(reverse("coaching:effectiveness")).status_code == 404
        assert effectiveness_rollup(alice.user) == [rollup]  # their own sessions only


def test_a_session_logged_after_the_fact_sends_no_invitation(alice, bob, committed):
    with committed():
        session = session_schedule(agent=alice, coach=bob, scheduled_at=soon(-3))
    assert mail.outbox == [] and not session.invited
    assert notices_of(alice.user) == [f"session:{session.pk}:scheduled"]
    with committed():
        session_cancel(session=session, reason="Logged twice", by=bob)
    assert mail.outbox == []


def test_date_fields_keep_their_value_in_portuguese(client, held, bob):
    """The browser's date picker reads ISO days whatever the language shows dates as."""
    day = timezone.localtime(held.scheduled_at).date() + timedelta(days=7)
    CoachingSession.objects.filter(pk=held.pk).update(follow_up_on=day)
    login(client, bob)
    body = client.get(page(held), HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert f'value="{day.isoformat()}"' in body


class TestSeries:
    def test_a_series_books_ahead_at_the_same_local_time_and_beat_extends_it_once(
        self, alice, bob, committed
    ):
        from coaching.services.sessions import SERIES_HORIZON_WEEKS, series_create, series_extend

        zone = ZoneInfo(alice.team.time_zone)
        first = datetime.combine(
            timezone.localdate() + timedelta(days=1), datetime.min.time(), tzinfo=zone
        ).replace(hour=9)
        with committed():
            series = series_create(agent=alice, coach=bob, first_at=first, every_weeks=2)
        times = [
            timezone.localtime(at, zone)
            for at in series.sessions.order_by("scheduled_at").values_list(
                "scheduled_at", flat=True
            )
        ]
        # From tomorrow, every two weeks, within six weeks of today: 3 of them.
        assert SERIES_HORIZON_WEEKS == 6 and len(times) == 3
        assert {(t.hour, t.minute) for t in times} == {(9, 0)}
        assert [(b.date() - a.date()).days for a, b in pairwise(times)] == [14] * (len(times) - 1)
        assert series_extend(series=series) == 0  # beat again: nothing new
        assert len(mail.outbox) == 2 * len(times)  # each occurrence invited, coach and agent

    def test_stopping_cancels_the_sessions_ahead_and_books_no_more(self, alice, bob):
        from coaching.services.sessions import series_create, series_extend, series_stop

        series = series_create(
            agent=alice, coach=bob, first_at=soon(24), every_weeks=1, duration_minutes=20
        )
        booked = series.sessions.count()
        assert series_stop(series=series, by=bob) == booked
        assert not series.sessions.filter(status="scheduled").exists()
        series.refresh_from_db()
        assert series_extend(series=series) == 0
        with pytest.raises(ValidationError, match="already stopped"):
            series_stop(series=series, by=bob)

    def test_a_series_with_flags_or_several_agents_is_refused_on_the_form(
        self, client, bob, alice_flag
    ):
        login(client, bob)
        day = (timezone.localdate() + timedelta(days=2)).isoformat()
        response = client.post(
            reverse("coaching:session-new"),
            {
                "flags": [alice_flag.pk],
                "day": day,
                "time": "10:00",
                "duration_minutes": 30,
                "every_weeks": 2,
            },
        )
        assert response.status_code == 400 and not CoachingSession.objects.exists()

    def test_a_lead_starts_a_series_on_the_form(self, client, bob, alice):
        login(client, bob)
        day = (timezone.localdate() + timedelta(days=2)).isoformat()
        response = client.post(
            reverse("coaching:session-new"),
            {
                "agent": alice.pk,
                "day": day,
                "time": "10:00",
                "duration_minutes": 30,
                "every_weeks": 2,
            },
        )
        first = CoachingSession.objects.order_by("scheduled_at").first()
        assert response.status_code == 302 and response["Location"] == page(first)
        assert first.series.every_weeks == 2
        body = client.get(page(first)).content.decode()
        assert 'data-testid="series"' in body


def test_my_coaching_takes_the_same_queries_however_many_sessions(
    client, alice, bob, alice_flag, django_assert_num_queries
):
    def book(hours: int) -> CoachingSession:
        session = session_schedule(agent=alice, coach=bob, scheduled_at=soon(hours))
        action_item_add(session=session, description="Do it", owner="agent", due_on=None)
        return session

    book(24)
    login(client, alice)
    # Session, user, agent, groups; the goals; upcoming, to acknowledge, earlier and open
    # items (each session with its coach and the agent's team in the same query); the
    # training to do and completed; the quality reviews to acknowledge.
    with django_assert_num_queries(12):
        client.get(reverse("coaching:me"))
    for hours in (48, 72, -5):
        book(hours)
    session_record(session=book(-3), notes="x", outcome="", follow_up_on=None, held=True, by=bob)
    with django_assert_num_queries(12):
        body = client.get(reverse("coaching:me")).content.decode()
    assert body.count('<span class="item-text">Do it</span>') == 5


class TestFlagPageSessions:
    def test_the_agent_and_her_lead_see_the_sessions_that_worked_on_the_flag(
        self, client, booked, alice, bob, alice_flag, dave
    ):
        flag_page = reverse("coaching:flag", args=[alice_flag.pk])
        for person in (alice.user, bob, dave):
            login(client, person)
            response = client.get(flag_page)
            assert response.status_code == 200
            rows = texts_by_testid(response.content, f"session-{booked.pk}")
            assert len(rows) == 1 and "FCR" in rows[0]

    def test_a_flag_no_session_used_says_so(self, client, bob, maria_flag):
        login(client, bob)
        response = client.get(reverse("coaching:flag", args=[maria_flag.pk]))
        assert texts_by_testid(response.content, "flag-session-rows") == []
        assert "No coaching session has worked on this flag yet." in response.content.decode()

    def test_a_lead_of_another_team_opens_neither_the_flag_nor_its_sessions(
        self, client, booked, carol, alice_flag
    ):
        login(client, carol)
        assert client.get(reverse("coaching:flag", args=[alice_flag.pk])).status_code == 404


def test_the_lead_home_lists_the_next_sessions_booked_with_her_agents(
    client, booked, bob, carol, committed, alice
):
    with committed():
        session_schedule(agent=alice, coach=bob, scheduled_at=soon(-3), flags=[])
    login(client, bob)
    (panel,) = texts_by_testid(client.get(reverse("home")).content, "home-sessions")
    # The past one is not "next".
    assert panel.endswith(f"· {alice.display_name}") and panel.count("·") == 1
    login(client, carol)
    home = client.get(reverse("home")).content
    assert texts_by_testid(home, "home-sessions") == []
    assert "No coaching session booked." in home.decode()
