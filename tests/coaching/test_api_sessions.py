"""The coaching sessions API per role: an agent reads and acknowledges their own sessions
and ticks their own action items; a lead schedules and runs those of the agents they lead;
a lead of another team and other agents get 404; anonymous gets 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from coaching.models import ActionItem, CoachingFlag, CoachingSession
from coaching.services.flags import FlagScope, flags_derive
from coaching.services.sessions import action_item_add, session_record, session_schedule
from tests.coaching.helpers import weeks
from tests.factories import make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db

LIST = reverse("api-coaching-sessions")


@pytest.fixture
def alice_flag(alice):
    fcr = make_standard(name="FCR", metric="fcr", period="week", target=85)
    weeks(alice, fcr, "M M")
    flags_derive(scope=FlagScope(agent_ids=(alice.pk,)))
    return CoachingFlag.objects.get(agent=alice)


@pytest.fixture
def booked(alice, bob, alice_flag):
    return session_schedule(
        agent=alice, coach=bob, scheduled_at=timezone.now() + timedelta(days=1), flags=[alice_flag]
    )


@pytest.fixture
def held(alice, bob):
    session = session_schedule(
        agent=alice, coach=bob, scheduled_at=timezone.now() - timedelta(hours=1)
    )
    return session_record(
        session=session, notes="Talked", outcome="", follow_up_on=None, held=True, by=bob
    )


def url(name: str, *args: int) -> str:
    return reverse(name, args=args)


def test_anonymous_gets_403(client, booked):
    assert client.get(LIST).status_code == 403
    assert client.get(url("api-coaching-session", booked.pk)).status_code == 403
    assert client.post(LIST, {}, content_type="application/json").status_code == 403


def test_the_list_and_detail_are_scoped_per_role(client, booked, alice, maria, bob, carol, dave):
    for person, ids in (
        (alice, [booked.pk]),
        (bob, [booked.pk]),
        (dave, [booked.pk]),
        (maria, []),
        (carol, []),
    ):
        login(client, person)
        body = client.get(LIST).json()
        assert [row["id"] for row in body["results"]] == ids, person
        expected = 200 if ids else 404
        assert client.get(url("api-coaching-session", booked.pk)).status_code == expected


def test_the_detail_carries_agenda_flags_items_and_invitation(client, booked, alice_flag, bob):
    login(client, bob)
    body = client.get(url("api-coaching-session", booked.pk)).json()
    assert body["flags"] == [alice_flag.pk] and "FCR" in body["agenda"]
    assert body["status"] == "scheduled" and body["action_items"] == []
    assert body["invitation"].endswith(".ics") and body["effectiveness"] == []


def test_a_lead_schedules_for_their_agents_only(client, alice, alice_flag, bob, carol):
    when = (timezone.now() + timedelta(days=2)).isoformat()
    payload = {"agent": alice.pk, "scheduled_at": when, "flags": [alice_flag.pk]}
    login(client, carol)
    response = client.post(LIST, payload, content_type="application/json")
    assert response.status_code == 400 and "agent" in response.json()
    login(client, alice)
    assert client.post(LIST, payload, content_type="application/json").status_code == 404
    login(client, bob)
    response = client.post(LIST, payload, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response["Location"] == url("api-coaching-session", response.json()["id"])
    assert CoachingSession.objects.get().coach == bob


def test_bad_payloads_get_field_errors_and_write_nothing(client, alice, bob):
    login(client, bob)
    for payload, field in (
        ({"agent": alice.pk, "scheduled_at": "tomorrow"}, "scheduled_at"),
        (
            {"agent": alice.pk, "scheduled_at": timezone.now().isoformat(), "duration_minutes": 1},
            "duration_minutes",
        ),
        ({"agent": alice.pk, "scheduled_at": "2020-01-01T10:00:00Z"}, "scheduled_at"),
        ({"agent": alice.pk, "scheduled_at": timezone.now().isoformat(), "flags": [999]}, "flags"),
    ):
        response = client.post(LIST, payload, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), payload
    assert not CoachingSession.objects.exists()


def test_only_the_lead_records_and_cancels(client, booked, alice, carol, bob):
    record = url("api-coaching-session-record", booked.pk)
    cancel = url("api-coaching-session-cancel", booked.pk)
    for person in (alice, carol):
        login(client, person)
        assert (
            client.post(cancel, {"reason": "x"}, content_type="application/json").status_code == 404
        )
        assert (
            client.post(record, {"notes": "x"}, content_type="application/json").status_code == 404
        )
    login(client, bob)
    response = client.post(cancel, {"reason": "Leave"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = client.post(cancel, {"reason": "Leave"}, content_type="application/json")
    assert again.status_code == 400 and "cancelled" in str(again.json())


def test_the_agent_acknowledges_once_and_only_the_agent(client, held, alice, bob):
    acknowledge = url("api-coaching-session-acknowledge", held.pk)
    login(client, bob)
    assert client.post(acknowledge, {}, content_type="application/json").status_code == 404
    login(client, alice)
    response = client.post(acknowledge, {"comment": "Ok"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["acknowledged_at"]
    again = client.post(acknowledge, {}, content_type="application/json")
    assert again.status_code == 400


def test_action_items_the_coach_adds_the_agent_ticks_their_own(client, held, alice, bob):
    login(client, bob)
    response = client.post(
        url("api-coaching-session-items", held.pk),
        {"description": "Listen to 3 calls", "owner": "agent"},
        content_type="application/json",
    )
    assert response.status_code == 200
    [item] = response.json()["action_items"]
    coach_item = action_item_add(session=held, description="Mine", owner="coach", due_on=None)
    login(client, alice)
    done = "api-coaching-session-item-done"
    response = client.post(
        url(done, held.pk, item["id"]), {"done": True}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["done_at"]
    response = client.post(
        url(done, held.pk, coach_item.pk), {"done": True}, content_type="application/json"
    )
    assert response.status_code == 404
    assert not ActionItem.objects.get(pk=coach_item.pk).is_done
