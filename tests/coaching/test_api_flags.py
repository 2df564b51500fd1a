"""The coaching flags API per role: agents read their own, leads their teams' (and close or
open them), admins everyone's; anonymous is refused; bad input names its field."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from coaching.models import CoachingFlag
from coaching.services.flags import FlagScope, flags_derive
from tests.coaching.helpers import week, weeks
from tests.factories import make_standard
from tests.scenarios import login

pytestmark = pytest.mark.django_db

LIST = reverse("api-coaching-flags")


@pytest.fixture
def fcr(db):
    return make_standard(name="FCR", metric="fcr", period="week", target=85)


@pytest.fixture
def flags(alice, paulo, fcr):
    weeks(alice, fcr, "M M", values={0: 60.0, 1: 70.0})
    weeks(paulo, fcr, "M M M")
    flags_derive(scope=FlagScope())
    return CoachingFlag.objects.get(agent=alice), CoachingFlag.objects.get(agent=paulo)


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def detail(flag) -> str:
    return reverse("api-coaching-flag", args=[flag.pk])


def test_anonymous_is_refused(client, flags):
    assert client.get(LIST).status_code == 403
    assert client.get(detail(flags[0])).status_code == 403
    assert client.post(LIST, {}).status_code == 403
    resolve = reverse("api-coaching-flag-resolve", args=[flags[0].pk])
    assert client.post(resolve, {"reason": "x"}).status_code == 403


def test_each_role_lists_what_it_may_see(client, alice, maria, bob, carol, dave, flags):
    mine, theirs = flags
    for person, expected in (
        (alice, {mine.pk}),
        (maria, set()),
        (bob, {mine.pk}),
        (carol, {theirs.pk}),
        (dave, {mine.pk, theirs.pk}),
    ):
        login(client, person)
        assert ids(client.get(LIST)) == expected, person


def test_filters(client, dave, flags, lisbon, fcr):
    mine, theirs = flags
    login(client, dave)
    assert ids(client.get(LIST, {"team": lisbon.pk})) == {mine.pk}
    assert ids(client.get(LIST, {"agent": theirs.agent_id})) == {theirs.pk}
    assert ids(client.get(LIST, {"status": "resolved"})) == set()
    assert ids(client.get(LIST, {"standard": fcr.pk, "status": "open"})) == {mine.pk, theirs.pk}
    response = client.get(LIST, {"status": "sleeping"})
    assert response.status_code == 400 and "status" in response.json()


def test_the_detail_has_the_goal_and_evidence(client, alice, flags):
    login(client, alice)
    body = client.get(detail(flags[0])).json()
    assert body["goal"] == "Reach 85 % or more in FCR, 2 weeks in a row"
    assert [
        (row["period_start"], row["value"], row["outcome_now"]) for row in body["evidence"]
    ] == [
        (week(0).isoformat(), 60.0, "missed"),
        (week(1).isoformat(), 70.0, "missed"),
    ]


def test_others_flags_are_404(client, maria, carol, flags):
    for person in (maria, carol):
        login(client, person)
        assert client.get(detail(flags[0])).status_code == 404


class TestClose:
    def url(self, flag, action="resolve"):
        return reverse(f"api-coaching-flag-{action}", args=[flag.pk])

    def test_the_lead_resolves_and_dismisses(self, client, bob, dave, flags):
        login(client, bob)
        response = client.post(self.url(flags[0]), {"reason": "Coached"})
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["resolved_by"]) == ("resolved", "bob")
        login(client, dave)
        response = client.post(self.url(flags[1], "dismiss"), {"reason": "Outage"})
        assert response.json()["status"] == "dismissed"

    def test_a_missing_reason_is_a_400_naming_it(self, client, bob, flags):
        login(client, bob)
        response = client.post(self.url(flags[0], "dismiss"), {"reason": ""})
        assert response.status_code == 400 and "reason" in response.json()

    def test_a_closed_flag_is_a_409(self, client, bob, flags):
        login(client, bob)
        client.post(self.url(flags[0]), {"reason": "Coached"})
        response = client.post(self.url(flags[0], "dismiss"), {"reason": "Again"})
        assert response.status_code == 409
        assert "already resolved" in response.json()["detail"]

    def test_agents_and_other_leads_get_404(self, client, alice, maria, carol, flags):
        for person in (alice, maria, carol):
            login(client, person)
            assert client.post(self.url(flags[0]), {"reason": "x"}).status_code == 404
        assert CoachingFlag.objects.get(pk=flags[0].pk).status == "open"


class TestOpenByHand:
    def test_a_lead_opens_one_for_their_agent(self, client, bob, maria, fcr):
        login(client, bob)
        response = client.post(
            LIST,
            {"agent": maria.pk, "standard": fcr.pk, "note": "Tone"},
            content_type="application/json",
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["origin"], body["opened_by"], body["note"]) == ("manual", "bob", "Tone")
        assert response["Location"] == reverse("api-coaching-flag", args=[body["id"]])

    def test_bad_input_names_the_field(self, client, bob, paulo, maria, flags, fcr):
        login(client, bob)
        cases = [
            ({"agent": paulo.pk, "standard": fcr.pk, "note": "x"}, "agent"),
            ({"agent": maria.pk, "standard": 999999, "note": "x"}, "standard"),
            ({"agent": maria.pk, "standard": fcr.pk, "note": ""}, "note"),
            ({"agent": flags[0].agent_id, "standard": fcr.pk, "note": "x"}, "standard"),
        ]
        for payload, field in cases:
            response = client.post(LIST, payload, content_type="application/json")
            assert response.status_code == 400 and field in response.json(), payload

    def test_agents_cannot(self, client, alice, fcr):
        login(client, alice)
        response = client.post(
            LIST,
            {"agent": alice.pk, "standard": fcr.pk, "note": "x"},
            content_type="application/json",
        )
        assert response.status_code == 404


def test_the_schema_documents_the_coaching_endpoints_without_a_warning(client, tmp_path):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/coaching/flags"])
    assert "post" in schema["paths"]["/api/v1/coaching/flags/{flag_id}/dismiss"]
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
