"""Redemptions at once, on PostgreSQL: twenty agents for the last five units take exactly
five, and one agent's retries of the same request redeem once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from rewards.models import AgentBalance, PointsEntry, Redemption
from rewards.selectors import balance_mismatches
from rewards.services.store import redemption_request
from tests.rewards.helpers import award, store_item
from tests.scenarios import agent_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL"),
]


def all_at_once(calls: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        try:
            start.wait()
            results.append(call())
        except BaseException as error:  # collected for the main thread's asserts
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_twenty_agents_for_five_units_take_exactly_five(reference_rows, lisbon):
    agents = [agent_in(lisbon, f"rush{n}") for n in range(20)]
    for agent in agents:
        award(agent, 100)
    item = store_item(cost=40, stock=5)

    def redeem(agent):
        return lambda: redemption_request(
            agent=agent, item_id=item.pk, requested_by=agent.user, idempotency_key="go"
        )

    results, errors = all_at_once([redeem(agent) for agent in agents])
    assert len(results) == 5 and len(errors) == 15
    assert {str(error.messages[0]) for error in errors} == {"Cinema tickets is out of stock."}
    assert all(isinstance(error, ValidationError) for error in errors)
    item.refresh_from_db()
    assert item.stock == 0 and Redemption.objects.count() == 5
    assert sorted(AgentBalance.objects.values_list("spendable", flat=True)) == [60] * 5 + [100] * 15
    assert balance_mismatches() == []
    assert connection.vendor == "postgresql"


def test_ten_retries_of_one_request_redeem_once(reference_rows, alice):
    award(alice, 100)
    item = store_item(cost=40, stock=5)
    results, errors = all_at_once(
        [
            lambda: redemption_request(
                agent=alice, item_id=item.pk, requested_by=alice.user, idempotency_key="once"
            )
            for _ in range(10)
        ]
    )
    assert errors == []
    assert len({result.redemption.pk for result in results}) == 1
    assert sum(result.created for result in results) == 1
    assert PointsEntry.objects.filter(kind="redemption_hold").count() == 1
    item.refresh_from_db()
    assert item.stock == 4 and AgentBalance.objects.get(agent=alice).spendable == 60
