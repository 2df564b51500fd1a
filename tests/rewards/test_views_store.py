"""The store pages, per role: an agent redeems and follows their redemptions; the lead of
their team (or an admin) approves or rejects; nobody else reaches them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rewards.models import AgentBalance, Redemption
from rewards.services.store import redemption_request
from tests.html import texts_by_testid
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


def test_anonymous_is_sent_to_log_in(client, shop):
    for url in (
        reverse("rewards:store"),
        reverse("rewards:my-redemptions"),
        reverse("rewards:approvals"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(reverse("rewards:redeem"), {"item": shop["tickets"].pk})
    assert response.status_code == 302 and Redemption.objects.count() == 0


def test_an_agent_sees_the_items_of_their_team_with_what_they_can_afford(client, alice, shop):
    login(client, alice)
    response = client.get(reverse("rewards:store"))
    assert response.status_code == 200
    items = texts_by_testid(response.content, "store-item")
    assert [item.split(" ")[0] for item in items] == ["Cinema", "Day"]
    assert "Redeem" in items[0] and "380 more points needed" in items[1]
    assert texts_by_testid(response.content, "spendable") == ["120"]


def test_a_lead_sees_the_catalogue_without_redeeming(client, bob, shop):
    login(client, bob)
    response = client.get(reverse("rewards:store"))
    assert response.status_code == 200
    assert len(texts_by_testid(response.content, "store-item")) == 3
    assert texts_by_testid(response.content, "redeem") == []


def test_someone_without_a_role_has_no_store(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(reverse("rewards:store")).status_code == 404


def test_redeeming_holds_the_points_and_a_resubmitted_form_redeems_once(client, alice, shop):
    login(client, alice)
    form = {"item": shop["tickets"].pk, "idempotency_key": "page-1-item"}
    response = client.post(reverse("rewards:redeem"), form)
    assert response.status_code == 302 and response["Location"] == reverse("rewards:my-redemptions")
    client.post(reverse("rewards:redeem"), form)
    assert Redemption.objects.count() == 1
    assert AgentBalance.objects.get(agent=alice).spendable == 70
    page = client.get(reverse("rewards:my-redemptions"))
    assert texts_by_testid(page.content, "redemption-status") == ["Awaiting approval"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"item": "day_off", "idempotency_key": "k"}, "Day off costs 500 points; you have 120"),
        ({"item": "paulista", "idempotency_key": "k"}, "There is no such item in your store."),
        ({"item": "nonsense", "idempotency_key": "k"}, "Enter a whole number."),
        ({"item": "tickets"}, "This field is required."),
    ],
)
def test_a_refused_redemption_says_why_and_writes_nothing(client, alice, shop, form, message):
    login(client, alice)
    form = {**form, "item": shop[form["item"]].pk if form["item"] in shop else form["item"]}
    response = client.post(reverse("rewards:redeem"), form)
    assert response.status_code == 400 and message in response.content.decode()
    assert Redemption.objects.count() == 0
    assert AgentBalance.objects.get(agent=alice).spendable == 120


def test_a_lead_cannot_redeem(client, bob, shop):
    login(client, bob)
    response = client.post(
        reverse("rewards:redeem"), {"item": shop["tickets"].pk, "idempotency_key": "k"}
    )
    assert response.status_code == 404 and Redemption.objects.count() == 0


def test_an_agent_cancels_their_own_pending_redemption_only(client, alice, paulo, shop):
    own = pending_of(alice, shop["tickets"])
    theirs = pending_of(paulo, shop["paulista"])
    login(client, alice)
    assert client.post(reverse("rewards:cancel-redemption", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("rewards:cancel-redemption", args=[own.pk]))
    assert response.status_code == 302
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert (own.status, theirs.status) == ("cancelled", "pending")
    assert AgentBalance.objects.get(agent=alice).spendable == 120


def test_a_lead_has_no_redemptions_page_of_their_own(client, bob):
    login(client, bob)
    assert client.get(reverse("rewards:my-redemptions")).status_code == 404


@pytest.mark.parametrize(
    ("who", "sees"), [("bob", ["alice"]), ("carol", ["paulo"]), ("dave", ["alice", "paulo"])]
)
def test_the_approvals_queue_holds_the_agents_one_leads(
    client, request, alice, paulo, shop, who, sees
):
    pending_of(alice, shop["tickets"])
    pending_of(paulo, shop["paulista"])
    login(client, request.getfixturevalue(who))
    response = client.get(reverse("rewards:approvals"))
    assert response.status_code == 200
    rows = texts_by_testid(response.content, "pending-redemption")
    names = [request.getfixturevalue(name).display_name for name in sees]
    assert len(rows) == len(names) and all(
        name in row for row, name in zip(rows, names, strict=True)
    )


def test_an_agent_has_no_approvals(client, alice, shop):
    redemption = pending_of(alice, shop["tickets"])
    login(client, alice)
    assert client.get(reverse("rewards:approvals")).status_code == 404
    assert (
        client.post(reverse("rewards:approve-redemption", args=[redemption.pk])).status_code == 404
    )
    redemption.refresh_from_db()
    assert redemption.status == "pending"


def test_the_lead_of_the_team_approves_and_another_lead_cannot(client, alice, bob, carol, shop):
    redemption = pending_of(alice, shop["tickets"])
    login(client, carol)
    assert (
        client.post(reverse("rewards:approve-redemption", args=[redemption.pk])).status_code == 404
    )
    login(client, bob)
    response = client.post(reverse("rewards:approve-redemption", args=[redemption.pk]))
    assert response.status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == "approved" and redemption.decided_by == bob
    decided = client.get(reverse("rewards:approvals"))
    assert texts_by_testid(decided.content, "redemption-status") == ["Approved"]


def test_rejecting_needs_a_reason_and_then_releases_the_points(client, alice, dave, shop):
    redemption = pending_of(alice, shop["tickets"])
    login(client, dave)
    url = reverse("rewards:reject-redemption", args=[redemption.pk])
    response = client.post(url, {f"{redemption.pk}-reason": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    redemption.refresh_from_db()
    assert redemption.status == "pending"
    response = client.post(url, {f"{redemption.pk}-reason": "Out of budget"})
    assert response.status_code == 302
    redemption.refresh_from_db()
    assert (redemption.status, redemption.reason) == ("rejected", "Out of budget")
    assert AgentBalance.objects.get(agent=alice).spendable == 120
    login(client, alice)
    page = client.get(reverse("rewards:my-redemptions")).content.decode()
    assert "Out of budget" in page


def test_deciding_twice_says_it_was_decided(client, alice, bob, shop):
    redemption = pending_of(alice, shop["tickets"])
    login(client, bob)
    client.post(reverse("rewards:approve-redemption", args=[redemption.pk]))
    response = client.post(
        reverse("rewards:reject-redemption", args=[redemption.pk]),
        {f"{redemption.pk}-reason": "late"},
        follow=True,
    )
    assert "This redemption is already approved." in response.content.decode()
    redemption.refresh_from_db()
    assert redemption.status == "approved"


def test_the_points_history_links_a_hold_to_the_redemptions(client, alice, shop):
    pending_of(alice, shop["tickets"])
    login(client, alice)
    body = client.get(reverse("rewards:my-points")).content.decode()
    assert f'href="{reverse("rewards:my-redemptions")}">Held for Cinema tickets' in body
