"""The coaching pages, per role: a lead works the queue of the teams they lead (resolve,
dismiss, open by hand), an admin everyone's; an agent reads their own flags as goals; a lead
of another team and other agents get 404; anonymous is sent to log in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coaching.models import CoachingFlag
from coaching.services.flags import FlagScope, flags_derive
from tests.coaching.helpers import weeks
from tests.factories import make_standard
from tests.scenarios import agent_in, login

pytestmark = pytest.mark.django_db

QUEUE = reverse("coaching:queue")
ME = reverse("coaching:me")
OPEN = reverse("coaching:flag-open")


@pytest.fixture
def fcr(db):
    return make_standard(name="FCR", metric="fcr", period="week", target=85)


@pytest.fixture
def alice_flag(alice, fcr):
    weeks(alice, fcr, "M M", values={0: 60.0, 1: 70.0})
    flags_derive(scope=FlagScope())
    return CoachingFlag.objects.get(agent=alice)


@pytest.fixture
def paulo_flag(paulo, fcr):
    weeks(paulo, fcr, "M M M")
    flags_derive(scope=FlagScope(agent_ids=(paulo.pk,)))
    return CoachingFlag.objects.get(agent=paulo)


def detail(flag):
    return reverse("coaching:flag", args=[flag.pk])


def resolve(flag):
    return reverse("coaching:flag-resolve", args=[flag.pk])


def dismiss(flag):
    return reverse("coaching:flag-dismiss", args=[flag.pk])


def test_anonymous_is_sent_to_log_in(client, alice_flag):
    for url in (QUEUE, ME, OPEN, detail(alice_flag)):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    for url in (resolve(alice_flag), dismiss(alice_flag), OPEN):
        assert client.post(url, {"resolve-reason": "x"}).status_code == 302
    assert CoachingFlag.objects.get().status == "open"


class TestQueue:
    def test_a_lead_sees_the_open_flags_of_their_team_only(
        self, client, bob, alice_flag, paulo_flag
    ):
        login(client, bob)
        body = client.get(QUEUE).content.decode()
        assert f'data-testid="flag-{alice_flag.pk}"' in body
        assert f'data-testid="flag-{paulo_flag.pk}"' not in body

    def test_an_admin_sees_every_team(self, client, dave, alice_flag, paulo_flag):
        login(client, dave)
        body = client.get(QUEUE).content.decode()
        # Three misses before two: the most severe first.
        assert body.index(f"flag-{paulo_flag.pk}") < body.index(f"flag-{alice_flag.pk}")

    def test_an_agent_has_no_queue(self, client, alice, alice_flag):
        login(client, alice)
        assert client.get(QUEUE).status_code == 404

    def test_filters_narrow_the_queue_and_htmx_gets_the_table_only(
        self, client, dave, alice_flag, paulo_flag, lisbon
    ):
        login(client, dave)
        response = client.get(QUEUE, {"team": lisbon.pk}, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert f"flag-{alice_flag.pk}" in body and f"flag-{paulo_flag.pk}" not in body
        body = client.get(QUEUE, {"agent": paulo_flag.agent_id}).content.decode()
        assert f"flag-{paulo_flag.pk}" in body and f"flag-{alice_flag.pk}" not in body
        other = make_standard(name="Other", metric="csat", period="week", target=80)
        assert (
            "No open coaching flags" in client.get(QUEUE, {"standard": other.pk}).content.decode()
        )

    @pytest.mark.parametrize("query", [{"team": "abc"}, {"agent": "999999"}, {"page": "0"}])
    def test_a_bad_filter_says_which_with_a_400(self, client, bob, alice_flag, query):
        login(client, bob)
        response = client.get(QUEUE, query)
        assert response.status_code == 400
        assert "That queue cannot be shown." in response.content.decode()

    def test_a_lead_cannot_filter_on_another_teams_agent(self, client, bob, paulo_flag):
        login(client, bob)
        assert client.get(QUEUE, {"agent": paulo_flag.agent_id}).status_code == 400

    def test_the_queue_takes_the_same_queries_however_many_flags(
        self, client, bob, lisbon, fcr, django_assert_num_queries
    ):
        for name in ("ana", "bea", "caio"):
            weeks(agent_in(lisbon, name), fcr, "M M")
        flags_derive(scope=FlagScope())
        login(client, bob)
        # Session, user, groups; the filter's teams, agents and standards; the queue's count
        # and page; the navigation's agent check.
        with django_assert_num_queries(9):
            response = client.get(QUEUE)
        assert response.content.decode().count('data-testid="flag-') == 3
        for name in ("dani", "edu"):
            weeks(agent_in(lisbon, name), fcr, "M M")
        flags_derive(scope=FlagScope())
        with django_assert_num_queries(9):
            response = client.get(QUEUE)
        assert response.content.decode().count('data-testid="flag-') == 5


class TestDetail:
    def test_the_agent_reads_their_flag_as_a_goal_with_its_evidence(
        self, client, alice, alice_flag
    ):
        login(client, alice)
        body = client.get(detail(alice_flag)).content.decode()
        assert "Reach 85 % or more in FCR, 2 weeks in a row" in body
        evaluation_id = alice_flag.evidence.first().evaluation_id
        assert reverse("evaluation-interactions", args=[evaluation_id]) in body
        assert "60 %" in body and "≥ 85 %" in body
        assert 'data-testid="flag-actions"' not in body

    def test_the_lead_of_the_team_sees_the_actions(self, client, bob, alice_flag):
        login(client, bob)
        body = client.get(detail(alice_flag)).content.decode()
        assert 'data-testid="resolve-form"' in body and 'data-testid="dismiss-form"' in body

    def test_another_agent_and_another_teams_lead_get_404(self, client, maria, carol, alice_flag):
        for person in (maria, carol):
            login(client, person)
            assert client.get(detail(alice_flag)).status_code == 404

    def test_an_admin_opens_any_flag(self, client, dave, paulo_flag):
        login(client, dave)
        assert client.get(detail(paulo_flag)).status_code == 200


class TestResolveAndDismiss:
    def test_the_lead_resolves_with_a_reason(self, client, bob, alice_flag):
        login(client, bob)
        response = client.post(resolve(alice_flag), {"resolve-reason": "Coached on wrap-up"})
        assert response.status_code == 302 and response["Location"] == QUEUE
        alice_flag.refresh_from_db()
        assert (alice_flag.status, alice_flag.resolved_by, alice_flag.reason) == (
            "resolved",
            bob,
            "Coached on wrap-up",
        )

    def test_the_lead_dismisses_with_a_reason(self, client, bob, alice_flag):
        login(client, bob)
        client.post(dismiss(alice_flag), {"dismiss-reason": "Outage"})
        alice_flag.refresh_from_db()
        assert alice_flag.status == "dismissed"

    def test_no_reason_is_a_400_naming_it(self, client, bob, alice_flag):
        login(client, bob)
        response = client.post(dismiss(alice_flag), {"dismiss-reason": ""})
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        alice_flag.refresh_from_db()
        assert alice_flag.status == "open"

    def test_closing_twice_says_it_is_closed(self, client, bob, alice_flag):
        login(client, bob)
        client.post(dismiss(alice_flag), {"dismiss-reason": "Outage"})
        response = client.post(resolve(alice_flag), {"resolve-reason": "Again"})
        assert response.status_code == 400
        assert "already dismissed" in response.content.decode()

    def test_the_agent_another_lead_and_anyone_else_cannot(
        self, client, alice, maria, carol, alice_flag
    ):
        for person in (alice, maria, carol):
            login(client, person)
            assert client.post(resolve(alice_flag), {"resolve-reason": "x"}).status_code == 404
            assert client.post(dismiss(alice_flag), {"dismiss-reason": "x"}).status_code == 404
        alice_flag.refresh_from_db()
        assert alice_flag.status == "open"

    def test_an_admin_may(self, client, dave, paulo_flag):
        login(client, dave)
        client.post(resolve(paulo_flag), {"resolve-reason": "Fine now"})
        paulo_flag.refresh_from_db()
        assert paulo_flag.status == "resolved"

    def test_a_lead_who_is_an_agent_never_closes_their_own(self, client, bob, lisbon, fcr):
        from tests.factories import AgentFactory

        own = AgentFactory(user=bob, team=lisbon)
        weeks(own, fcr, "M M")
        flags_derive(scope=FlagScope())
        flag = CoachingFlag.objects.get(agent=own)
        login(client, bob)
        assert client.post(resolve(flag), {"resolve-reason": "me"}).status_code == 404


class TestOpenByHand:
    def test_the_lead_opens_a_flag_for_an_agent_they_lead(self, client, bob, alice, fcr):
        login(client, bob)
        assert client.get(OPEN, {"agent": alice.pk}).status_code == 200
        response = client.post(
            OPEN, {"agent": alice.pk, "standard": fcr.pk, "note": "Complaints about tone"}
        )
        flag = CoachingFlag.objects.get()
        assert response.status_code == 302 and response["Location"] == detail(flag)
        assert (flag.origin, flag.opened_by, flag.note) == ("manual", bob, "Complaints about tone")

    def test_not_for_another_teams_agent(self, client, bob, paulo, fcr):
        login(client, bob)
        response = client.post(OPEN, {"agent": paulo.pk, "standard": fcr.pk, "note": "x"})
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert not CoachingFlag.objects.exists()

    def test_a_second_open_flag_is_refused_with_the_reason(
        self, client, bob, alice, alice_flag, fcr
    ):
        login(client, bob)
        response = client.post(OPEN, {"agent": alice.pk, "standard": fcr.pk, "note": "x"})
        assert response.status_code == 400
        assert "already has an open flag" in response.content.decode()

    def test_a_note_is_required(self, client, bob, alice, fcr):
        login(client, bob)
        response = client.post(OPEN, {"agent": alice.pk, "standard": fcr.pk, "note": ""})
        assert response.status_code == 400

    def test_agents_cannot(self, client, alice, fcr):
        login(client, alice)
        assert client.get(OPEN).status_code == 404
        client.post(OPEN, {"agent": alice.pk, "standard": fcr.pk, "note": "x"})
        assert not CoachingFlag.objects.exists()


class TestMyCoaching:
    def test_an_agent_sees_their_open_flags_as_goals(self, client, alice, alice_flag, paulo_flag):
        login(client, alice)
        body = client.get(ME).content.decode()
        assert "Reach 85 % or more in FCR, 2 weeks in a row" in body
        assert detail(alice_flag) in body and detail(paulo_flag) not in body

    def test_closed_flags_are_no_goals(self, client, alice, bob, alice_flag):
        from coaching.services.flags import flag_resolve

        flag_resolve(flag=alice_flag, resolved_by=bob, reason="Done")
        login(client, alice)
        assert "No goals right now" in client.get(ME).content.decode()

    def test_a_lead_without_an_agent_has_none(self, client, bob):
        login(client, bob)
        assert client.get(ME).status_code == 404


def test_the_navigation_marks_coaching_for_a_lead_and_my_coaching_for_an_agent(
    client, alice, bob, alice_flag
):
    from tests.test_composition import nav

    login(client, bob)
    entries = nav(client.get(detail(alice_flag)).content.decode())
    assert ("Coaching", True) in entries
    login(client, alice)
    entries = nav(client.get(detail(alice_flag)).content.decode())
    assert ("My coaching", True) in entries and ("Coaching", False) not in entries


def test_the_home_shows_an_agent_their_goals_and_a_lead_their_open_flags(
    client, alice, bob, carol, alice_flag
):
    from tests.html import texts_by_testid

    login(client, alice)
    (goals,) = texts_by_testid(client.get(reverse("home")).content, "home-goals")
    assert goals.startswith("Your coaching goals Reach")
    login(client, bob)
    assert texts_by_testid(client.get(reverse("home")).content, "home-queue") == [
        "Coaching queue 1 open coaching flag in your teams Next coaching sessions"
        " No coaching session booked. All coaching sessions"
    ]
    login(client, carol)
    assert texts_by_testid(client.get(reverse("home")).content, "home-queue") == [
        "Coaching queue No open coaching flags in your teams. Next coaching sessions"
        " No coaching session booked. All coaching sessions"
    ]
