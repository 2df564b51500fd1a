"""What leads do by hand: open a flag with a note, resolve or dismiss one with a reason; the
replay never reopens a flag a lead closed for the same evidence."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from coaching.models import CoachingFlag
from coaching.services.flags import (
    FlagScope,
    flag_dismiss,
    flag_open_by_hand,
    flag_resolve,
    flags_derive,
)
from performance.periods import period_containing
from tests.coaching.helpers import flags_of, week, weeks
from tests.factories import make_standard

pytestmark = pytest.mark.django_db


@pytest.fixture
def fcr(db):
    return make_standard(
        name="FCR",
        metric="fcr",
        period="week",
        target=85,
        coaching_missed=2,
        coaching_window=3,
        coaching_resolve_after=2,
    )


def derive():
    return flags_derive(scope=FlagScope())


@pytest.fixture
def open_flag(alice, fcr):
    weeks(alice, fcr, "M M")
    derive()
    return CoachingFlag.objects.get()


def test_a_lead_dismisses_a_flag_with_a_reason_and_the_replay_leaves_it_closed(
    open_flag, bob, alice, fcr
):
    flag = flag_dismiss(flag=open_flag, dismissed_by=bob, reason="System outage both weeks")
    assert (flag.status, flag.resolved_by, flag.reason) == (
        "dismissed",
        bob,
        "System outage both weeks",
    )
    assert flag.closed_through >= week(1)
    assert derive().writes == 0
    assert CoachingFlag.objects.filter(status="open").count() == 0


def test_after_a_dismissal_only_new_misses_open_a_new_flag(open_flag, bob, alice, fcr):
    flag_dismiss(flag=open_flag, dismissed_by=bob, reason="Outage")
    # Late data for a week before the dismissal changes nothing: it is covered.
    weeks(alice, fcr, "M", first=2)
    derive()
    assert CoachingFlag.objects.count() == 1


def test_a_lead_resolves_a_flag_with_a_reason(open_flag, bob):
    flag = flag_resolve(flag=open_flag, resolved_by=bob, reason="Coached on call closing")
    assert (flag.status, flag.resolved_by, flag.resolved_on) == (
        "resolved",
        bob,
        timezone.localdate(),
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_resolving_or_dismissing_needs_a_reason(open_flag, bob, reason):
    with pytest.raises(ValidationError) as error:
        flag_dismiss(flag=open_flag, dismissed_by=bob, reason=reason)
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError):
        flag_resolve(flag=open_flag, resolved_by=bob, reason=reason)
    open_flag.refresh_from_db()
    assert open_flag.status == "open"


def test_a_closed_flag_cannot_be_closed_again(open_flag, bob):
    flag_dismiss(flag=open_flag, dismissed_by=bob, reason="Outage")
    with pytest.raises(ValidationError, match="already dismissed"):
        flag_resolve(flag=open_flag, resolved_by=bob, reason="Again")


def test_a_lead_opens_a_flag_by_hand_with_a_note(alice, bob, fcr):
    flag = flag_open_by_hand(agent=alice, standard=fcr, opened_by=bob, note="Customer complaints")
    assert (flag.origin, flag.status, flag.opened_by, flag.note) == (
        "manual",
        "open",
        bob,
        "Customer complaints",
    )
    assert flag.opened_on == period_containing(timezone.localdate(), "week").start


def test_a_flag_by_hand_needs_a_note_and_no_open_flag(open_flag, alice, bob, fcr):
    with pytest.raises(ValidationError) as error:
        flag_open_by_hand(agent=alice, standard=fcr, opened_by=bob, note=" ")
    assert "note" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        flag_open_by_hand(agent=alice, standard=fcr, opened_by=bob, note="Again")
    assert "already has an open flag" in error.value.message_dict["standard"][0]


def test_a_long_note_is_refused_with_its_length(alice, bob, fcr):
    with pytest.raises(ValidationError, match="2001"):
        flag_open_by_hand(agent=alice, standard=fcr, opened_by=bob, note="x" * 2001)


def test_a_flag_by_hand_holds_off_the_rule_and_resolves_itself(alice, bob, fcr):
    flag = flag_open_by_hand(agent=alice, standard=fcr, opened_by=bob, note="Complaints")
    # As if opened in week 0: the weeks after it count.
    CoachingFlag.objects.filter(pk=flag.pk).update(opened_on=week(0))
    weeks(alice, fcr, "M M M m")
    derive()
    assert flags_of(alice) == [("open", 0, None, [])]
    weeks(alice, fcr, "m", first=4)
    derive()
    assert flags_of(alice) == [("resolved", 0, 4, [])]
    assert derive().writes == 0


def test_the_database_keeps_one_open_flag_per_agent_and_standard(open_flag):
    with pytest.raises(IntegrityError), transaction.atomic():
        CoachingFlag.objects.create(
            agent=open_flag.agent,
            standard=open_flag.standard,
            origin="manual",
            opened_on=week(5),
        )
