from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from performance.models import Evaluation
from performance.tasks import evaluate_recent_periods
from tests.factories import InteractionFactory, make_standard


@pytest.mark.django_db
def test_evaluate_prints_a_json_report_and_is_idempotent(alice, source, capsys):
    InteractionFactory(
        agent=alice, source=source, started_at=datetime(2026, 10, 29, 12, tzinfo=UTC), csat=5
    )
    make_standard(metric="csat")
    call_command("evaluate", "--since", "2026-10-28", "--until", "2026-10-29", "--json")
    first = json.loads(capsys.readouterr().out)
    assert first == {
        "since": "2026-10-28",
        "until": "2026-10-29",
        "evaluations": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    call_command("evaluate", "--since", "2026-10-28", "--until", "2026-10-29")
    assert "2 evaluations (0 created, 0 updated, 2 unchanged, 0 deleted)" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "'yesterday' is not a day"),
        (["--since", "2026-10-30", "--until", "2026-10-01"], "is after --until"),
    ],
)
def test_evaluate_rejects_bad_dates(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("evaluate", *args)


@pytest.mark.django_db
def test_the_nightly_task_scores_the_periods_containing_the_last_two_days(alice, source):
    today = timezone.localdate()
    make_standard(metric="volume", period="day", active_from=today - timedelta(days=30))
    assert evaluate_recent_periods.apply().get() == 2
    assert set(Evaluation.objects.values_list("period_start", flat=True)) == {
        today - timedelta(days=2),
        today - timedelta(days=1),
    }
