"""The ledger is append-only in the database itself, and balances follow its entries."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from rewards.db import ledger_wipe_allowed
from rewards.models import AgentBalance, LedgerImmutableError, PointsEntry
from rewards.selectors import balance_mismatches
from rewards.services.ledger import (
    NewEntry,
    balances_lock,
    entries_append,
    manual_adjustment_create,
)

pytestmark = pytest.mark.django_db


def _entry(agent, points=10, key="k1", kind=PointsEntry.Kind.STANDARD) -> PointsEntry:
    with transaction.atomic():
        balances_lock([agent.pk])
        (entry,) = entries_append(
            [
                NewEntry(
                    agent_id=agent.pk,
                    points=points,
                    kind=kind,
                    earned_on=date(2026, 10, 26),
                    reference="evaluation:1:2026-10-26",
                    idempotency_key=key,
                    note="test",
                )
            ]
        )
    return entry


def test_the_database_refuses_to_update_an_entry(alice):
    entry = _entry(alice)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).update(points=1000)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE rewards_pointsentry SET note = 'edited'")
    entry.refresh_from_db()
    assert (entry.points, entry.note) == (10, "test")


def test_the_database_refuses_to_delete_an_entry(alice):
    entry = _entry(alice)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM rewards_pointsentry")
    assert PointsEntry.objects.filter(pk=entry.pk).exists()


def test_the_model_refuses_to_save_or_delete_an_existing_entry(alice):
    entry = _entry(alice)
    entry.points = 99
    with pytest.raises(LedgerImmutableError):
        entry.save()
    with pytest.raises(LedgerImmutableError):
        entry.delete()


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_only_a_whole_database_wipe_passes_the_sqlite_delete_guard(alice):
    _entry(alice)
    with ledger_wipe_allowed(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM rewards_pointsentry")
    assert not PointsEntry.objects.exists()


def test_a_repeated_idempotency_key_appends_nothing(alice):
    _entry(alice, key="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(alice, key="same")
    assert PointsEntry.objects.count() == 1
    assert AgentBalance.objects.get(agent=alice).lifetime == 10


def test_balances_follow_every_entry_in_the_same_transaction(alice, maria):
    _entry(alice, 10, "a")
    _entry(alice, -4, "b")
    _entry(maria, 20, "c")
    _entry(alice, -5, "hold", kind=PointsEntry.Kind.REDEMPTION_HOLD)
    alice_balance = AgentBalance.objects.get(agent=alice)
    assert (alice_balance.lifetime, alice_balance.spendable) == (6, 1)
    assert AgentBalance.objects.get(agent=maria).lifetime == 20
    assert balance_mismatches() == []


def test_a_balance_that_drifts_from_its_ledger_is_reported(alice):
    _entry(alice, 10)
    AgentBalance.objects.filter(agent=alice).update(lifetime=11)
    (mismatch,) = balance_mismatches()
    assert (mismatch.agent_id, mismatch.balance.lifetime, mismatch.ledger.lifetime) == (
        alice.pk,
        11,
        10,
    )


def test_a_manual_adjustment_needs_a_reason_and_points(alice, bob):
    with pytest.raises(ValidationError) as error:
        manual_adjustment_create(
            agent=alice, points=0, note="  ", created_by=bob, earned_on=date(2026, 11, 2)
        )
    assert set(error.value.message_dict) == {"note", "points"}
    with pytest.raises(ValidationError) as error:
        manual_adjustment_create(
            agent=alice, points=10**6, note="typo", created_by=bob, earned_on=date(2026, 11, 2)
        )
    assert "points" in error.value.message_dict
    assert not PointsEntry.objects.exists()
    entry = manual_adjustment_create(
        agent=alice,
        points=-15,
        note="Duplicate survey",
        created_by=bob,
        earned_on=date(2026, 11, 2),
    )
    assert (entry.kind, entry.points, entry.created_by) == ("manual_adjustment", -15, bob)
    assert AgentBalance.objects.get(agent=alice).lifetime == -15


def test_a_bulk_append_writes_the_same_ledger_balances_and_totals(alice, maria, monkeypatch):
    """Reconciliation's large appends go by COPY / executemany: same rows as the model path."""
    from django.db.models import Sum

    from rewards.selectors import balance_mismatches, total_mismatches
    from rewards.services import ledger

    monkeypatch.setattr(ledger, "BULK_ENTRIES", 0)
    entries = [
        ledger.NewEntry(
            agent_id=agent.pk,
            points=points,
            kind="standard",
            earned_on=date(2026, 10, day),
            reference=f"bulk:{agent.pk}:{day}",
            idempotency_key=f"bulk:{agent.pk}:{day}",
            note="bulk",
        )
        for agent, points in ((alice, 10), (maria, -3))
        for day in range(1, 11)
    ]
    with transaction.atomic():
        ledger.balances_lock([alice.pk, maria.pk])
        assert ledger.entries_append(entries) == []
    assert PointsEntry.objects.filter(agent=alice).aggregate(total=Sum("points"))["total"] == 100
    assert AgentBalance.objects.get(agent=maria).lifetime == -30
    assert PointsEntry.objects.filter(note="bulk").exclude(created_at=None).count() == 20
    assert balance_mismatches() == [] and total_mismatches() == []
