"""The reward store's services: a redemption holds its points at once, is approved (spent)
or rejected / cancelled (released, the unit back in stock), once; stock never goes below
zero; a retried request returns the same redemption."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewards.models import AgentBalance, PointsEntry, Redemption
from rewards.selectors import balance_mismatches, total_mismatches
from rewards.services.store import (
    IdempotencyKeyReused,
    idempotency_key_clean,
    redemption_approve,
    redemption_cancel,
    redemption_reject,
    redemption_request,
)
from tests.rewards.helpers import award, store_item
from tests.scenarios import agent_in

pytestmark = pytest.mark.django_db


def redeem(agent, item, key: str = "k1"):
    return redemption_request(
        agent=agent, item_id=item.pk, requested_by=agent.user, idempotency_key=key
    )


def balance(agent) -> tuple[int, int]:
    row = AgentBalance.objects.get(agent=agent)
    return row.lifetime, row.spendable


def test_a_redemption_holds_its_points_at_once_and_takes_a_unit(alice):
    award(alice, 120)
    item = store_item(cost=50, stock=3)
    outcome = redeem(alice, item)
    assert outcome.created and outcome.redemption.status == Redemption.Status.PENDING
    assert balance(alice) == (120, 70)
    item.refresh_from_db()
    assert item.stock == 2
    hold = PointsEntry.objects.get(kind=PointsEntry.Kind.REDEMPTION_HOLD)
    assert (hold.points, hold.reference) == (-50, f"redemption:{outcome.redemption.pk}")
    assert "Cinema tickets" in hold.note


def test_approving_spends_the_held_points_and_writes_nothing_more(alice, bob):
    award(alice, 120)
    redemption = redeem(alice, store_item(cost=50)).redemption
    entries = PointsEntry.objects.count()
    approved = redemption_approve(redemption=redemption, decided_by=bob)
    assert approved.status == Redemption.Status.APPROVED and approved.decided_by == bob
    assert PointsEntry.objects.count() == entries
    assert balance(alice) == (120, 70)


def test_rejecting_gives_the_points_and_the_unit_back_with_the_reason(alice, bob):
    award(alice, 120)
    item = store_item(cost=50, stock=1)
    redemption = redeem(alice, item).redemption
    rejected = redemption_reject(redemption=redemption, decided_by=bob, reason="Not this month")
    assert rejected.status == Redemption.Status.REJECTED and rejected.reason == "Not this month"
    assert balance(alice) == (120, 120)
    item.refresh_from_db()
    assert item.stock == 1
    release = PointsEntry.objects.get(kind=PointsEntry.Kind.REDEMPTION_RELEASED)
    assert release.points == 50 and "Not this month" in release.note


def test_a_rejection_needs_a_reason_and_changes_nothing_without_one(alice, bob):
    award(alice, 120)
    redemption = redeem(alice, store_item(cost=50)).redemption
    with pytest.raises(ValidationError) as error:
        redemption_reject(redemption=redemption, decided_by=bob, reason="  ")
    assert "reason" in error.value.message_dict
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.PENDING and balance(alice) == (120, 70)


def test_the_agent_cancels_while_it_awaits_approval(alice):
    award(alice, 60)
    item = store_item(cost=50, stock=None)
    redemption = redeem(alice, item).redemption
    redemption_cancel(redemption=redemption, cancelled_by=alice.user)
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED and balance(alice) == (60, 60)
    item.refresh_from_db()
    assert item.stock is None


@pytest.mark.parametrize("first", ["approve", "reject", "cancel"])
def test_a_redemption_is_decided_once(alice, bob, first):
    award(alice, 120)
    redemption = redeem(alice, store_item(cost=50)).redemption
    decide = {
        "approve": lambda: redemption_approve(redemption=redemption, decided_by=bob),
        "reject": lambda: redemption_reject(redemption=redemption, decided_by=bob, reason="no"),
        "cancel": lambda: redemption_cancel(redemption=redemption, cancelled_by=alice.user),
    }
    decide[first]()
    after = (balance(alice), PointsEntry.objects.count())
    for again in decide.values():
        with pytest.raises(ValidationError) as error:
            again()
        assert "already" in error.value.messages[0]
    assert (balance(alice), PointsEntry.objects.count()) == after


def test_too_few_spendable_points_are_refused_with_what_is_missing(alice):
    award(alice, 40)
    item = store_item(cost=50, stock=2)
    with pytest.raises(ValidationError) as error:
        redeem(alice, item)
    assert error.value.messages == ["Cinema tickets costs 50 points; you have 40 to spend."]
    assert Redemption.objects.count() == 0 and balance(alice) == (40, 40)
    item.refresh_from_db()
    assert item.stock == 2


def test_held_points_cannot_be_spent_twice(alice):
    award(alice, 80)
    item = store_item(cost=50)
    redeem(alice, item, "first")
    with pytest.raises(ValidationError):
        redeem(alice, item, "second")
    assert balance(alice) == (80, 30)


def test_the_last_unit_goes_once(alice, maria):
    award(alice, 100)
    award(maria, 100)
    item = store_item(cost=10, stock=1)
    redeem(alice, item)
    with pytest.raises(ValidationError) as error:
        redeem(maria, item)
    assert error.value.messages == ["Cinema tickets is out of stock."]
    item.refresh_from_db()
    assert item.stock == 0 and balance(maria) == (100, 100)


def test_items_of_other_teams_and_inactive_items_are_refused(alice, sao_paulo):
    award(alice, 100)
    theirs = store_item(name="Sao Paulo lunch", teams=[sao_paulo])
    gone = store_item(name="Old mug", active=False)
    with pytest.raises(ValidationError) as error:
        redeem(alice, theirs, "a")
    assert error.value.messages == ["There is no such item in your store."]
    with pytest.raises(ValidationError) as error:
        redeem(alice, gone, "b")
    assert error.value.messages == ["Old mug is no longer offered."]
    assert Redemption.objects.count() == 0


def test_a_retry_with_the_same_key_returns_the_same_redemption(alice):
    award(alice, 200)
    item = store_item(cost=50, stock=5)
    first = redeem(alice, item, "retry-me")
    again = redeem(alice, item, "retry-me")
    assert again.redemption.pk == first.redemption.pk and not again.created
    assert balance(alice) == (200, 150)
    item.refresh_from_db()
    assert item.stock == 4


def test_a_key_reused_for_another_item_is_a_conflict(alice):
    award(alice, 200)
    redeem(alice, store_item(name="A"), "same")
    with pytest.raises(IdempotencyKeyReused):
        redeem(alice, store_item(name="B"), "same")
    assert Redemption.objects.count() == 1


def test_keys_are_per_agent(alice, maria):
    award(alice, 100)
    award(maria, 100)
    item = store_item(cost=10)
    assert redeem(alice, item, "k").created and redeem(maria, item, "k").created


@pytest.mark.parametrize(
    ("raw", "message"),
    [("   ", "The Idempotency-Key is empty."), ("x" * 121, "longer than 120 characters")],
)
def test_bad_idempotency_keys_are_refused(raw, message):
    with pytest.raises(ValidationError) as error:
        idempotency_key_clean(raw)
    assert message in error.value.messages[0]


def test_a_missing_key_gets_a_fresh_one():
    assert idempotency_key_clean(None) != idempotency_key_clean(None)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["redeem", "approve", "reject", "cancel", "retry"]),
        st.integers(0, 2),  # agent
        st.integers(0, 1),  # item
    ),
    max_size=25,
)


_examples = itertools.count()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_any_sequence_keeps_balances_stock_and_ledger_in_step(lisbon, operations):
    """Examples share the test's transaction: each gets agents and items of its own."""
    example = next(_examples)
    agents = [agent_in(lisbon, f"p{example}-{n}") for n in range(3)]
    lead = agents[0].user
    for agent in agents:
        award(agent, 100)
    mug = store_item(name=f"Mug {example}", cost=30, stock=2)
    items = [mug, store_item(name=f"Day off {example}", cost=70, stock=None)]
    keys = 0
    for operation, who, which in operations:
        agent, item = agents[who], items[which]
        pending = Redemption.objects.filter(agent=agent, status="pending").first()
        try:
            if operation == "redeem":
                keys += 1
                redeem(agent, item, f"k{keys}")
            elif operation == "retry":
                last = Redemption.objects.filter(agent=agent).order_by("-pk").first()
                if last is not None:
                    assert not redeem(agent, last.item, last.idempotency_key).created
            elif pending is not None and operation == "approve":
                redemption_approve(redemption=pending, decided_by=lead)
            elif pending is not None and operation == "reject":
                redemption_reject(redemption=pending, decided_by=lead, reason="no")
            elif pending is not None and operation == "cancel":
                redemption_cancel(redemption=pending, cancelled_by=agent.user)
        except ValidationError:
            pass
    for agent in agents:
        lifetime, spendable = balance(agent)
        spent_or_held = (
            Redemption.objects.filter(agent=agent, status__in=["pending", "approved"]).aggregate(
                total=Sum("cost")
            )["total"]
            or 0
        )
        assert lifetime == 100 and spendable == lifetime - spent_or_held >= 0
    mug.refresh_from_db()
    taken = Redemption.objects.filter(item=mug, status__in=["pending", "approved"]).count()
    assert mug.stock == 2 - taken >= 0
    assert balance_mismatches() == [] and total_mismatches() == []
