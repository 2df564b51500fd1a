"""The store in Django admin: admins author items; saving an item never puts back a stock
that redemptions moved meanwhile; redemptions are read-only there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rewards.models import StoreItem
from rewards.services.store import redemption_request
from tests.rewards.helpers import award, store_item

pytestmark = pytest.mark.django_db


def item_form(item: StoreItem, **changes) -> dict:
    form = {
        "name": item.name,
        "description": item.description,
        "cost": item.cost,
        "active": "on" if item.active else "",
        "position": item.position,
        "teams": [],
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value != ""}


def test_an_admin_adds_an_item(client, dave, lisbon):
    client.force_login(dave)
    response = client.post(
        reverse("admin:rewards_storeitem_add"),
        {
            "name": "Vale-presente",
            "cost": 300,
            "stock": 10,
            "active": "on",
            "position": 1,
            "teams": [lisbon.pk],
        },
    )
    assert response.status_code == 302
    item = StoreItem.objects.get(name="Vale-presente")
    assert (item.cost, item.stock, list(item.teams.all())) == (300, 10, [lisbon])


def test_a_zero_cost_is_refused(client, dave):
    client.force_login(dave)
    response = client.post(
        reverse("admin:rewards_storeitem_add"), {"name": "Free", "cost": 0, "position": 0}
    )
    assert response.status_code == 200 and StoreItem.objects.count() == 0


def test_saving_adds_units_to_the_stock_redemptions_took_meanwhile(client, dave, alice):
    award(alice, 100)
    item = store_item(cost=10, stock=5)
    client.force_login(dave)
    form = item_form(item, name="Cinema for two", restock=10)  # loaded while 5 were left
    redemption_request(agent=alice, item_id=item.pk, requested_by=alice.user, idempotency_key="x")
    response = client.post(reverse("admin:rewards_storeitem_change", args=[item.pk]), form)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.name, item.stock) == ("Cinema for two", 14)


def test_removing_more_units_than_are_left_is_refused(client, dave):
    item = store_item(cost=10, stock=2)
    client.force_login(dave)
    response = client.post(
        reverse("admin:rewards_storeitem_change", args=[item.pk]), item_form(item, restock=-3)
    )
    assert (
        response.status_code == 200
        and "Only 2 units are left to remove." in response.content.decode()
    )
    item.refresh_from_db()
    assert item.stock == 2


def test_redemptions_are_read_only_in_admin(client, dave, alice):
    award(alice, 100)
    item = store_item(cost=10)
    redemption = redemption_request(
        agent=alice, item_id=item.pk, requested_by=alice.user, idempotency_key="x"
    ).redemption
    client.force_login(dave)
    assert client.get(reverse("admin:rewards_redemption_changelist")).status_code == 200
    assert client.get(reverse("admin:rewards_redemption_add")).status_code == 403
    page = client.get(reverse("admin:rewards_redemption_change", args=[redemption.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
