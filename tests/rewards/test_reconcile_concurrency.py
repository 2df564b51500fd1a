"""Two reconciliations of the same agents at once, on PostgreSQL: the agents' locks
serialise them, and the second finds nothing left to append."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.db.models import Sum

from rewards.models import AgentBalance, PointsEntry
from rewards.services.reconcile import ReconcileScope, reconcile
from tests.factories import make_standard
from tests.rewards.helpers import judge

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL"),
]


def test_concurrent_reconciliations_append_each_difference_once(reference_rows, alice, maria):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    for week in range(8):
        judge(alice, csat, date(2026, 9, 7) + timedelta(days=7 * week), "met")
        judge(maria, csat, date(2026, 9, 7) + timedelta(days=7 * week), "exceeded")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            reconcile(ReconcileScope(agent_ids=(alice.pk, maria.pk)))
        except BaseException as error:  # reported below, from the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert PointsEntry.objects.count() == 16
    assert PointsEntry.objects.filter(agent=alice).aggregate(total=Sum("points"))["total"] == 80
    assert AgentBalance.objects.get(agent=maria).lifetime == 160
    assert connection.vendor == "postgresql"
