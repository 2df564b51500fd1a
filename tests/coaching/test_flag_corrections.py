"""Late corrections: an open flag whose evidence is corrected away is withdrawn with the
reason, unless a coaching session used it (then it stays, marked "evidence corrected")."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from coaching.models import CoachingFlag, FlagRequest
from coaching.services.flags import FlagScope, flags_derive, flags_mark_used
from performance.models import Evaluation, EvaluationChange
from performance.services.changes import evaluation_changes_deliver
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


def test_a_late_survey_that_removes_the_evidence_withdraws_an_unused_flag_with_the_reason(
    alice, fcr, settings
):
    weeks(alice, fcr, "M M")
    derive()
    weeks(alice, fcr, "m")  # week 0 is met after all
    result = derive()
    assert result.withdrawn == 1
    flag = CoachingFlag.objects.get()
    assert flag.status == "withdrawn"
    assert "Week 23, 2026" in flag.reason and "no longer missed" in flag.reason
    assert flag.closed_at is not None
    assert derive().writes == 0


def test_the_reason_is_written_in_the_sites_language(alice, fcr, settings):
    weeks(alice, fcr, "M M")
    derive()
    settings.LANGUAGE_CODE = "pt-br"
    Evaluation.objects.filter(period_start=week(0)).delete()
    derive()
    reason = CoachingFlag.objects.get().reason
    assert reason and "Week 23" not in reason


def test_a_deleted_evaluation_counts_as_removed_evidence(alice, fcr):
    weeks(alice, fcr, "M M")
    derive()
    Evaluation.objects.filter(period_start=week(1)).delete()
    derive()
    assert flags_of(alice) == [("withdrawn", 1, None, [0, 1])]


def test_a_flag_a_session_used_stays_marked_evidence_corrected_and_still_resolves(alice, fcr):
    weeks(alice, fcr, "M M")
    derive()
    flag = CoachingFlag.objects.get()
    assert flags_mark_used(flag_ids=[flag.pk]) == 1
    weeks(alice, fcr, "m")
    result = derive()
    flag.refresh_from_db()
    assert (flag.status, flag.evidence_corrected, result.corrected) == ("open", True, 1)
    # The evidence the session saw is kept as it was.
    assert [row.period_start for row in flag.evidence.all()] == [week(0), week(1)]
    assert derive().writes == 0
    weeks(alice, fcr, "M M", first=2)  # it is open: no second flag
    derive()
    assert CoachingFlag.objects.count() == 1
    weeks(alice, fcr, "m e", first=4)
    derive()
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_on) == ("resolved", week(5))


def test_a_correction_that_keeps_the_rule_complete_refreshes_the_evidence(alice, fcr):
    weeks(alice, fcr, "M M M")
    derive()
    assert flags_of(alice) == [("open", 1, None, [0, 1])]
    weeks(alice, fcr, "m")  # week 0 met: weeks 1 and 2 complete the rule on week 2
    result = derive()
    assert flags_of(alice) == [("open", 2, None, [1, 2])]
    assert (result.withdrawn, result.refreshed) == (0, 1)


def test_a_used_flag_whose_evidence_changes_is_marked_corrected(alice, fcr):
    weeks(alice, fcr, "M M M")
    derive()
    flags_mark_used(flag_ids=CoachingFlag.objects.values_list("pk", flat=True))
    weeks(alice, fcr, "m")
    derive()
    assert CoachingFlag.objects.get().evidence_corrected


def test_a_late_miss_can_open_a_flag_in_the_past_already_resolved(alice, fcr):
    weeks(alice, fcr, "M i m m")
    derive()
    assert flags_of(alice) == []
    weeks(alice, fcr, "M", first=1)
    derive()
    assert flags_of(alice) == [("resolved", 1, 3, [0, 1])]


def test_first_use_is_kept(alice, fcr):
    weeks(alice, fcr, "M M")
    derive()
    flag = CoachingFlag.objects.get()
    flags_mark_used(flag_ids=[flag.pk])
    assert flags_mark_used(flag_ids=[flag.pk]) == 0


def test_an_evaluation_change_derives_its_scope_through_the_seam(
    alice, maria, fcr, django_capture_on_commit_callbacks
):
    weeks(alice, fcr, "M M")
    weeks(maria, fcr, "M M")
    change = EvaluationChange.objects.create(
        first_period_start=week(0),
        last_period_start=week(1),
        standard_ids=[fcr.pk],
        agent_ids=[alice.pk],
        batch_id=None,
        created=2,
        updated=0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_changes_deliver(subscriber="coaching")
    assert FlagRequest.objects.get(change_id=change.pk).done_at is not None
    assert flags_of(alice) == [("open", 1, None, [0, 1])]
    assert flags_of(maria) == []


def test_the_nightly_task_derives_everyone(alice, maria, fcr):
    from coaching.tasks import derive_all

    weeks(alice, fcr, "M M")
    weeks(maria, fcr, "M M")
    assert derive_all.delay().get() == 2
    assert derive_all.delay().get() == 0


def test_the_command_derives_one_agent_or_everyone(alice, maria, fcr, capsys):
    weeks(alice, fcr, "M M")
    weeks(maria, fcr, "M M")
    call_command("coaching_flags_derive", "--agent", str(alice.pk))
    assert "1 agents: 1 flags opened" in capsys.readouterr().out
    assert flags_of(maria) == []
    call_command("coaching_flags_derive")
    assert flags_of(maria)
    with pytest.raises(CommandError, match="no agent"):
        call_command("coaching_flags_derive", "--agent", "999999")
