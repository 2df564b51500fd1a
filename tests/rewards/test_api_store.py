"""The store API, per role: items, redemptions (with Idempotency-Key retries), and the
decisions of the lead of the agent's team or an admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rewards.models import AgentBalance, Redemption
from rewards.services.store import redemption_request
from tests.rewards.helpers import award, store_item
from tests.scenarios import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(alice, paulo, sao_paulo):
    award(alice, 120)
    award(paulo, 120)
    return {
        "tickets": store_item(name="Cinema tickets", cost=50, stock=3),
        "day_off": store_item(name="Day off", cost=500, stock=None),
        "paulista": store_item(name="Lunch on Paulista", cost=30, teams=[sao_paulo]),
    }


def pending_of(agent, item) -> Redemption:
    return redemption_request(
        agent=agent, item_id=item.pk, requested_by=agent.user, idempotency_key=f"t{item.pk}"
    ).redemption


def post_redemption(client, item, key: str | None = "key-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        reverse("api-redemptions"),
        {"item": item.pk},
        content_type="application/json",
        headers=headers,
    )


def test_anonymous_gets_403_everywhere(client, shop, alice):
    redemption = pending_of(alice, shop["tickets"])
    assert client.get(reverse("api-store-items")).status_code == 403
    assert client.get(reverse("api-redemptions")).status_code == 403
    assert post_redemption(client, shop["tickets"]).status_code == 403
    for name in ("api-redemption-approve", "api-redemption-cancel", "api-redemption-reject"):
        assert client.post(reverse(name, args=[redemption.pk])).status_code == 403


def test_an_agent_lists_the_items_of_their_team_with_what_they_lack(client, alice, shop):
    login(client, alice)
    body = client.get(reverse("api-store-items")).json()
    assert [(item["name"], item["missing_points"], item["stock"]) for item in body] == [
        ("Cinema tickets", 0, 3),
        ("Day off", 380, None),
    ]


def test_a_lead_lists_the_whole_catalogue(client, bob, shop):
    login(client, bob)
    body = client.get(reverse("api-store-items")).json()
    assert len(body) == 3 and {item["missing_points"] for item in body} == {0}


def test_redeeming_returns_201_and_a_retry_with_the_key_the_same_redemption(client, alice, shop):
    login(client, alice)
    first = post_redemption(client, shop["tickets"], "abc")
    assert first.status_code == 201 and first.json()["status"] == "pending"
    retry = post_redemption(client, shop["tickets"], "abc")
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    assert Redemption.objects.count() == 1
    assert AgentBalance.objects.get(agent=alice).spendable == 70


def test_a_key_reused_for_another_item_is_409(client, alice, shop):
    login(client, alice)
    post_redemption(client, shop["tickets"], "abc")
    response = post_redemption(client, shop["day_off"], "abc")
    assert response.status_code == 409 and "another item" in response.json()["detail"]


def test_without_a_key_each_post_is_a_new_redemption(client, alice, shop):
    login(client, alice)
    assert post_redemption(client, shop["tickets"], None).status_code == 201
    assert post_redemption(client, shop["tickets"], None).status_code == 201
    assert Redemption.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "headers", "field", "message"),
    [
        ({"item": "day_off"}, {}, "item", "Day off costs 500 points; you have 120 to spend."),
        ({"item": "paulista"}, {}, "item", "There is no such item in your store."),
        ({"item": "x"}, {}, "item", "A valid integer is required."),
        ({}, {}, "item", "This field is required."),
        ({"item": "tickets"}, {"Idempotency-Key": " "}, "idempotency_key", "empty"),
    ],
)
def test_a_refused_redemption_is_400_naming_the_field(
    client, alice, shop, body, headers, field, message
):
    login(client, alice)
    if body.get("item") in shop:
        body = {"item": shop[body["item"]].pk}
    response = client.post(
        reverse("api-redemptions"), body, content_type="application/json", headers=headers
    )
    assert response.status_code == 400 and message in response.json()[field][0]
    assert Redemption.objects.count() == 0


def test_a_lead_cannot_redeem(client, bob, shop):
    login(client, bob)
    assert post_redemption(client, shop["tickets"]).status_code == 403


@pytest.mark.parametrize(
    ("who", "agents"),
    [("alice", ["alice"]), ("bob", ["alice"]), ("carol", ["paulo"]), ("dave", ["alice", "paulo"])],
)
def test_redemptions_are_scoped_like_the_pages(client, request, alice, paulo, shop, who, agents):
    pending_of(alice, shop["tickets"])
    pending_of(paulo, shop["paulista"])
    login(client, request.getfixturevalue(who))
    body = client.get(reverse("api-redemptions")).json()
    expected = {request.getfixturevalue(name).pk for name in agents}
    assert {row["agent"] for row in body["results"]} == expected


def test_redemptions_filter_by_status_and_refuse_an_unknown_one(client, alice, bob, shop):
    redemption = pending_of(alice, shop["tickets"])
    login(client, alice)
    assert client.get(reverse("api-redemptions"), {"status": "approved"}).json()["count"] == 0
    assert (
        client.get(reverse("api-redemptions"), {"status": "pending"}).json()["results"][0]["id"]
        == redemption.pk
    )
    response = client.get(reverse("api-redemptions"), {"status": "lost"})
    assert response.status_code == 400 and "status" in response.json()


@pytest.mark.parametrize(
    ("who", "code"), [("alice", 404), ("carol", 404), ("bob", 200), ("dave", 200)]
)
def test_who_may_approve(client, request, alice, shop, who, code):
    redemption = pending_of(alice, shop["tickets"])
    login(client, request.getfixturevalue(who))
    response = client.post(reverse("api-redemption-approve", args=[redemption.pk]))
    assert response.status_code == code
    redemption.refresh_from_db()
    assert redemption.status == ("approved" if code == 200 else "pending")


def test_a_rejection_needs_a_reason_and_a_second_decision_is_409(client, alice, bob, shop):
    redemption = pending_of(alice, shop["tickets"])
    login(client, bob)
    url = reverse("api-redemption-reject", args=[redemption.pk])
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400 and "reason" in missing.json()
    done = client.post(url, {"reason": "Budget"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["reason"] == "Budget"
    again = client.post(reverse("api-redemption-approve", args=[redemption.pk]))
    assert again.status_code == 409 and "already rejected" in again.json()["status"][0]
    assert AgentBalance.objects.get(agent=alice).spendable == 120


def test_only_the_agent_cancels_their_own(client, alice, maria, bob, shop):
    redemption = pending_of(alice, shop["tickets"])
    for other in (maria, bob):
        login(client, other)
        assert (
            client.post(reverse("api-redemption-cancel", args=[redemption.pk])).status_code == 404
        )
    login(client, alice)
    response = client.post(reverse("api-redemption-cancel", args=[redemption.pk]))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
