"""The seam to rewards and coaching: an evaluation run records its change (a small
reference, in the same transaction) and every subscriber applies each change exactly once,
on the after-commit signal or later from the catch-up, even if the process died between
commit and dispatch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as project_settings
from django.db import connection
from django.utils import timezone

from performance.models import ChangeCursor, Evaluation, EvaluationChange
from performance.services.changes import (
    CHANGE_RETENTION,
    evaluation_changes_deliver,
    evaluation_changes_prune,
)
from performance.services.evaluation import evaluate_periods
from performance.signals import evaluation_changes_subscribe
from performance.tasks import deliver_evaluation_changes
from tests.factories import InteractionFactory, make_standard
from tests.performance.evaluation_change_child import DIED_IN_HOOK

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 10, 29)


class Recorder:
    """A test subscriber: what it was handed, and the evaluations it saw in scope."""

    def __init__(self) -> None:
        self.applied: list[int] = []
        self.rows_seen: list[int] = []
        self.fail = False

    def __call__(self, change: EvaluationChange) -> None:
        self.applied.append(change.id)
        self.rows_seen.append(change.evaluations().count())
        if self.fail:
            raise RuntimeError("the subscriber's own write failed")


@pytest.fixture
def subscriber(monkeypatch):
    """The only subscriber while the test runs (the apps' own are set aside)."""
    recorder = Recorder()
    only = {"test": recorder}
    monkeypatch.setattr("performance.signals.change_subscribers", only)
    monkeypatch.setattr("performance.services.changes.change_subscribers", only)
    return recorder


@pytest.fixture
def scored_day(alice, source):
    InteractionFactory(
        agent=alice, source=source, started_at=datetime(2026, 10, 29, 12, tzinfo=UTC), csat=5
    )
    return make_standard(metric="csat")


def cursor() -> int:
    return ChangeCursor.objects.get(subscriber="test").last_change_id


@pytest.mark.django_db
class TestTheChangeRecord:
    def test_a_run_records_its_scope_not_its_ids(self, scored_day, alice):
        run = evaluate_periods(since=DAY, until=DAY, standard_ids=[scored_day.id])
        change = EvaluationChange.objects.get()
        assert run.change_id == change.id
        assert (change.created, change.updated) == (1, 0)
        assert (change.first_period_start, change.last_period_start) == (DAY, DAY)
        assert (change.standard_ids, change.agent_ids, change.batch_id) == (
            [scored_day.id],
            None,
            None,
        )
        assert list(change.evaluations()) == list(Evaluation.objects.all())

    def test_a_run_that_changes_nothing_records_nothing(self, scored_day):
        evaluate_periods(since=DAY, until=DAY)
        evaluate_periods(since=DAY, until=DAY)
        assert EvaluationChange.objects.count() == 1

    def test_a_batch_change_names_the_batch(self, alice, source, tmp_path):
        from tests.performance.helpers import ingest_text

        make_standard(metric="csat")
        batch = ingest_text(
            source,
            "external_id,agent,channel,started_at,csat\nx1,A1,chat,2026-10-29T10:00:00Z,5\n",
            tmp_path,
        )
        from performance.services.evaluation import evaluate_touched_by_batch

        evaluate_touched_by_batch(batch_id=batch.id)
        change = EvaluationChange.objects.get()
        # The agents whose rows the batch's run changed, not every agent of its periods.
        assert (change.batch_id, change.agent_ids, change.standard_ids) == (
            batch.id,
            [alice.id],
            None,
        )
        assert list(change.evaluations().values_list("agent_id", flat=True)) == [alice.id]

    def test_the_record_rolls_back_with_the_rows(self, scored_day):
        from django.db import transaction

        with pytest.raises(RuntimeError), transaction.atomic():
            evaluate_periods(since=DAY, until=DAY)
            raise RuntimeError("the caller's transaction fails after the run")
        assert not Evaluation.objects.exists()
        assert not EvaluationChange.objects.exists()


@pytest.mark.django_db
class TestDelivery:
    def test_the_subscriber_gets_the_change_once_on_the_normal_path(
        self, scored_day, subscriber, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run = evaluate_periods(since=DAY, until=DAY)
        assert subscriber.applied == [run.change_id]
        assert subscriber.rows_seen == [1]  # the handler reads the rows in its scope
        assert cursor() == run.change_id

    def test_a_change_delivered_twice_is_applied_once(
        self, scored_day, subscriber, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            run = evaluate_periods(since=DAY, until=DAY)
        for callback in callbacks:  # the after-commit signal again (a duplicate)
            callback()
        assert deliver_evaluation_changes.apply().get() == 0  # and the beat catch-up
        assert evaluation_changes_deliver() == 0
        assert subscriber.applied == [run.change_id]

    def test_changes_are_handed_in_order_and_only_the_new_ones(self, scored_day, alice, subscriber):
        first = evaluate_periods(since=DAY, until=DAY)
        InteractionFactory(
            agent=alice,
            source=alice.external_ids.get().source,
            started_at=datetime(2026, 10, 29, 13, tzinfo=UTC),
            csat=1,
        )
        second = evaluate_periods(since=DAY, until=DAY)
        assert evaluation_changes_deliver() == 2
        assert subscriber.applied == [first.change_id, second.change_id]
        third = evaluate_periods(since=DAY + timedelta(days=1), until=DAY + timedelta(days=1))
        assert evaluation_changes_deliver() == 1
        assert subscriber.applied == [first.change_id, second.change_id, third.change_id]

    def test_a_failing_handler_keeps_the_change_pending(self, scored_day, subscriber):
        run = evaluate_periods(since=DAY, until=DAY)
        subscriber.fail = True
        assert evaluation_changes_deliver() == 0
        assert cursor() == 0
        subscriber.fail = False
        assert evaluation_changes_deliver() == 1
        assert subscriber.applied == [run.change_id, run.change_id]  # tried, then applied
        assert cursor() == run.change_id

    def test_a_name_is_taken_once(self, subscriber):
        evaluation_changes_subscribe(name="test", handler=subscriber)  # the same: fine
        with pytest.raises(ValueError, match="already subscribed"):
            evaluation_changes_subscribe(name="test", handler=Recorder())

    def test_the_catch_up_is_on_the_beat_schedule(self):
        tasks = {entry["task"] for entry in project_settings.CELERY_BEAT_SCHEDULE.values()}
        assert deliver_evaluation_changes.name in tasks


@pytest.mark.django_db
class TestPruning:
    def test_only_old_changes_every_subscriber_passed_are_pruned(
        self, scored_day, alice, subscriber
    ):
        old = evaluate_periods(since=DAY, until=DAY)
        pending = evaluate_periods(since=DAY + timedelta(days=1), until=DAY + timedelta(days=1))
        later = timezone.now() + CHANGE_RETENTION + timedelta(hours=1)
        assert evaluation_changes_prune(now=later) == 0  # the subscriber has applied none
        ChangeCursor.objects.filter(subscriber="test").update(last_change_id=old.change_id)
        assert evaluation_changes_prune() == 0  # passed, but recent
        assert evaluation_changes_prune(now=later) == 1
        assert list(EvaluationChange.objects.values_list("id", flat=True)) == [pending.change_id]


def run_child(phase: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "-m", "tests.performance.evaluation_change_child", phase],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def postgres_test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def child_database(tmp_path) -> str:
    """The database the child processes share: the test database itself on PostgreSQL
    (committed for real, flushed afterwards), a fresh file on SQLite (whose test database
    lives in this process's memory)."""
    if connection.vendor == "postgresql":
        return postgres_test_database_url()
    return f"sqlite:///{tmp_path / 'killed.sqlite3'}"


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_a_process_that_died_before_dispatch_is_caught_up_once(
    child_database,
):
    setup = run_child("setup", child_database)
    assert setup.returncode == 0, setup.stderr

    died = run_child("evaluate", child_database)
    assert died.returncode == DIED_IN_HOOK, died.stderr  # killed after commit, before dispatch

    caught_up = run_child("catch-up", child_database)
    assert caught_up.returncode == 0, caught_up.stderr
    report = json.loads(caught_up.stdout)
    assert len(report["changes"]) == 1  # the change was committed with the rows
    assert report["applied"] == report["changes"]  # and applied exactly once
    # One change, applied once by each subscriber (the test's and the apps'), then nothing.
    assert report["delivered"] == [report["subscribers"], 0]
    assert report["cursor"] == report["changes"][0]
