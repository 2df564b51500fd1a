"""What reconciliation writes in SQL: a reference's first entry, with its note worded there
(rewards.services.reconcile._new_references_append), reads exactly as the Python wording of
every other entry (_note) gives it, in each language, whatever an admin named the standard;
the totals it moves (channels too) and the streaks it stores are the ledger's."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pytest
from django.utils import translation

from performance.periods import PeriodKind, period_containing
from rewards.models import AgentStreak, PointsEntry, PointsTotal, StreakBonus
from rewards.selectors import balance_mismatches, total_mismatches
from rewards.services.reconcile import (
    ReconcileScope,
    _evaluation_cause,
    _Expected,
    _note,
    _streak_cause,
    derived_key,
    reconcile,
)
from tests.factories import make_standard
from tests.rewards.helpers import judge

pytestmark = pytest.mark.django_db

WEEK_44 = date(2026, 10, 26)
BATCH = 77


def python_note(entry: PointsEntry, name: str, *, streak_first: date | None = None) -> str:
    kind = PeriodKind.WEEK
    if entry.kind == PointsEntry.Kind.STREAK_BONUS:
        what = partial(_streak_cause, name, 2, streak_first, kind)
    else:
        what = partial(_evaluation_cause, name, entry.earned_on, kind)
    expected = _Expected(
        kind=entry.kind,
        standard_id=entry.standard_id,
        earned_on=entry.earned_on,
        points=entry.points,
        outcome=entry.outcome,
        what=what,
    )
    return _note(expected, None, entry.points, BATCH)


@pytest.mark.parametrize("language", ["en", "pt-br"])
@pytest.mark.parametrize("name", ["CSAT", "Nota 100%% %(what)s %(delta)+d %(period)s"])
def test_first_entries_read_as_the_python_wording(alice, settings, language, name):
    settings.LANGUAGE_CODE = language
    standard = make_standard(name=name, metric="csat", period="week", target=80)
    StreakBonus.objects.create(standard=standard, length=2, points=15)
    judge(alice, standard, WEEK_44, "met")
    judge(alice, standard, WEEK_44 + timedelta(days=7), "exceeded")
    judge(alice, standard, WEEK_44 + timedelta(days=14), "missed", points=-5)

    result = reconcile(ReconcileScope(agent_ids=(alice.pk,), batch_id=BATCH))

    entries = list(PointsEntry.objects.filter(agent=alice).order_by("earned_on", "kind"))
    assert [(e.kind, e.points) for e in entries] == [
        ("standard", 10),
        ("standard", 20),
        ("streak_bonus", 15),
        ("standard", -5),
    ]
    assert (result.entries, result.points) == (4, 40)
    with translation.override(language):
        for entry in entries:
            assert entry.note == python_note(entry, name, streak_first=WEEK_44)
            assert entry.idempotency_key == derived_key(alice.pk, entry.reference, 0)
    assert entries[0].reference == f"evaluation:{standard.pk}:2026-10-26"
    assert entries[2].reference == f"streak:{standard.pk}:2026-10-26:2"


def test_the_english_note_of_a_first_entry(alice, settings):
    settings.LANGUAGE_CODE = "en"
    standard = make_standard(name="CSAT", metric="csat", period="week", target=80)
    judge(alice, standard, WEEK_44, "missed", points=-5)
    reconcile()
    label = period_containing(WEEK_44, "week").label
    assert PointsEntry.objects.get(agent=alice).note == f"CSAT, {label}: missed: penalty -5"


def test_first_entries_move_the_totals_of_their_standards_channel(alice):
    phone = make_standard(name="TMA", metric="aht", channel="phone", period="week", target=300)
    judge(alice, phone, WEEK_44, "met")
    reconcile()
    assert total_mismatches() == [] and balance_mismatches() == []
    assert set(
        PointsTotal.objects.filter(agent=alice, span="week").values_list("channel", "points")
    ) == {("", 10), ("phone", 10)}


def test_a_stored_streak_keeps_its_best_when_the_current_one_restarts(alice):
    standard = make_standard(name="CSAT", metric="csat", period="week", target=80)
    for week, outcome in enumerate(["met", "met"]):
        judge(alice, standard, WEEK_44 + timedelta(days=7 * week), outcome)
    reconcile()
    streak = AgentStreak.objects.get(agent=alice, standard=standard)
    assert (streak.current, streak.best) == (2, 2)
    for week, outcome in [(2, "missed"), (3, "met")]:
        judge(alice, standard, WEEK_44 + timedelta(days=7 * week), outcome)
    reconcile()
    streak.refresh_from_db()
    assert (streak.current, streak.best) == (1, 2)
