"""A feed batch whose run died is found by its lease (FEED_BATCH_LEASE_SECONDS) and resumed
after its last committed chunk, with the report one uninterrupted run gives; a run that lost
its claim (a zombie) writes nothing."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings as project_settings
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import tests.performance.test_ingest_properties as properties
from config.celery import app as celery_app
from performance.feeds.files import FeedChunk
from performance.models import Evaluation, FeedBatch, Interaction
from performance.services.ingest import (
    batch_report,
    chunks,
    feed_batch_process,
    feed_batch_requeue,
    feed_batch_resume,
    feed_batches_resume_stalled,
)
from performance.services.ingest.batches import MAX_STALLED_RUNS, ClaimLost, _batch_claim, _Run
from performance.services.ingest.chunks import ChunkApplier
from performance.tasks import process_feed_batch, resume_stalled_feed_batches
from tests.factories import make_standard
from tests.performance import feed_batch_child as child
from tests.performance.helpers import errors_of, ingest_text, shared_database_url
from tests.scenarios import login

ROOT = Path(__file__).resolve().parents[2]
HEADER = "external_id,agent,channel,started_at,csat"
# In chunks of 2: two new facts; a rejected row and a new fact; a correction and a new fact.
FEED = (
    f"{HEADER}\n"
    "r1,A1,chat,2026-10-29T10:00:00Z,5\n"
    "r2,P1,phone,2026-10-29T11:00:00Z,4\n"
    "r3,ghost,chat,2026-10-29T12:00:00Z,3\n"
    "r4,A1,email,2026-10-30T10:00:00Z,2\n"
    "r1,A1,chat,2026-10-29T10:00:00Z,1\n"
    "r5,P1,chat,2026-10-31T10:00:00Z,5\n"
)
ONE_RUN = {"rows": 6, "created": 4, "updated": 1, "unchanged": 0, "rejected": 1}


class Died(BaseException):
    """The process is killed: nothing in the service catches it (it is no Exception)."""


@contextmanager
def killed(monkeypatch, *, after_chunks: int, in_transaction: bool = False) -> Iterator[None]:
    """The run dies right after its `after_chunks`-th chunk commits, or inside the next
    chunk's transaction after its writes (which then roll back)."""
    apply, save_progress = ChunkApplier.apply, _Run.save_progress
    committed = 0

    def apply_then_die(self, chunk):
        nonlocal committed
        outcome = apply(self, chunk)
        committed += 1
        if committed == after_chunks and not in_transaction:
            raise Died
        return outcome

    def save_then_die(self, chunk, outcome):
        save_progress(self, chunk, outcome)
        if in_transaction and committed == after_chunks:
            raise Died

    with monkeypatch.context() as patch:
        patch.setattr(ChunkApplier, "apply", apply_then_die)
        patch.setattr(_Run, "save_progress", save_then_die)
        with suppress(Died):
            yield


def stall(batch: FeedBatch) -> None:
    """Time passes beyond the lease with no heartbeat: the run that held the batch is gone."""
    late = timedelta(seconds=project_settings.FEED_BATCH_LEASE_SECONDS + 1)
    FeedBatch.objects.filter(pk=batch.pk).update(heartbeat_at=F("heartbeat_at") - late)


def report_of(batch: FeedBatch) -> dict:
    batch.refresh_from_db()
    report = batch_report(batch)
    del report["batch"]
    return report


def counts(batch: FeedBatch) -> dict:
    report = report_of(batch)
    return {name: report[name] for name in ONE_RUN}


def facts() -> list[tuple]:
    return list(
        Interaction.objects.order_by("external_id").values_list(
            "external_id", "agent_id", "channel", "started_at", "handle_seconds", "csat", "nps"
        )
    )


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 2)


@pytest.fixture
def killed_batch(source, alice, paulo, tmp_path, monkeypatch, small_chunks) -> FeedBatch:
    """FEED's run died after its first chunk committed."""
    with killed(monkeypatch, after_chunks=1):
        ingest_text(source, FEED, tmp_path)
    return FeedBatch.objects.get()


# --- resuming ------------------------------------------------------------------------------


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=properties.feeds,
    chunk_rows=st.sampled_from([1, 2, 3]),
    after_chunks=st.integers(1, 8),
    in_transaction=st.booleans(),
)
def test_a_run_killed_after_any_chunk_resumes_to_the_report_of_one_run(
    rows,
    chunk_rows,
    after_chunks,
    in_transaction,
    source,
    alice,
    paulo,
    tmp_path,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    text = properties.to_csv(rows)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", chunk_rows)
    Interaction.objects.all().delete()
    FeedBatch.objects.all().delete()
    one_run = ingest_text(source, text, tmp_path)
    expected = (report_of(one_run), facts())
    Interaction.objects.all().delete()
    FeedBatch.objects.all().delete()

    with killed(monkeypatch, after_chunks=after_chunks, in_transaction=in_transaction):
        ingest_text(source, text, tmp_path)
    batch = FeedBatch.objects.get()
    if batch.status == FeedBatch.Status.PROCESSING:  # it had more chunks than it lived for
        stall(batch)
        with django_capture_on_commit_callbacks(execute=True):
            assert feed_batches_resume_stalled() == 1
        assert FeedBatch.objects.get().runs == 2
    assert (report_of(batch), facts()) == expected


@pytest.mark.django_db
class TestResuming:
    def test_the_beat_resumes_a_stalled_batch_after_its_last_chunk(
        self, killed_batch, django_capture_on_commit_callbacks
    ):
        assert (killed_batch.status, killed_batch.rows_read) == ("processing", 2)
        assert killed_batch.created_count == 2  # saved with the chunk's facts
        stall(killed_batch)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert resume_stalled_feed_batches.apply().get() == 1

        assert [callback.func.__self__.name for callback in callbacks] == [
            "performance.process_feed_batch",
            "performance.evaluate_feed_batch",
        ]
        assert counts(killed_batch) == ONE_RUN
        assert (killed_batch.status, killed_batch.runs, killed_batch.stalled_runs) == (
            "completed",
            2,
            0,
        )
        assert [line for line, _, _ in errors_of(killed_batch)] == [4]

    def test_a_batch_whose_run_is_alive_is_left_alone(
        self, killed_batch, django_capture_on_commit_callbacks
    ):
        # Its heartbeat is a moment inside the lease: the run may be slow, not dead.
        inside = timedelta(seconds=project_settings.FEED_BATCH_LEASE_SECONDS - 5)
        FeedBatch.objects.filter(pk=killed_batch.pk).update(heartbeat_at=timezone.now() - inside)
        before = FeedBatch.objects.filter(pk=killed_batch.pk).values().get()

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert feed_batches_resume_stalled() == 0
            assert not feed_batch_resume(batch_id=killed_batch.id)
            assert not feed_batch_requeue(batch_id=killed_batch.id)
            assert process_feed_batch.apply(args=[killed_batch.id]).get() == "processing"

        assert callbacks == []
        assert FeedBatch.objects.filter(pk=killed_batch.pk).values().get() == before
        assert not killed_batch.is_stalled

    def test_a_redelivered_message_of_a_stalled_batch_resumes_it(self, killed_batch):
        stall(killed_batch)
        assert process_feed_batch.apply(args=[killed_batch.id]).get() == "completed"
        assert counts(killed_batch) == ONE_RUN
        assert (killed_batch.runs, killed_batch.stalled_runs) == (2, 0)

    def test_the_killed_runs_periods_are_rescored(
        self,
        source,
        alice,
        paulo,
        tmp_path,
        monkeypatch,
        small_chunks,
        django_capture_on_commit_callbacks,
    ):
        standard = make_standard(metric="volume", target=1)
        with killed(monkeypatch, after_chunks=1):
            ingest_text(source, FEED, tmp_path)
        batch = FeedBatch.objects.get()
        assert not Evaluation.objects.exists()
        stall(batch)

        with django_capture_on_commit_callbacks(execute=True):
            assert feed_batches_resume_stalled() == 1

        # paulo's 29 October was touched by the killed run's chunk only. A re-score judges
        # whole periods: every agent gets a row in each period the batch touched.
        assert set(
            Evaluation.objects.filter(standard=standard).values_list("agent", "period_start")
        ) == {(agent.id, date(2026, 10, day)) for agent in (alice, paulo) for day in (29, 30, 31)}
        assert (
            Evaluation.objects.get(
                standard=standard, agent=paulo, period_start=date(2026, 10, 29)
            ).value
            == 1
        )

    def test_runs_that_keep_dying_at_the_same_chunk_fail_for_a_person_to_see(
        self, killed_batch, monkeypatch, django_capture_on_commit_callbacks
    ):
        for _ in range(MAX_STALLED_RUNS - 1):
            stall(killed_batch)
            with (
                killed(monkeypatch, after_chunks=0, in_transaction=True),
                django_capture_on_commit_callbacks(execute=True),
            ):
                assert feed_batches_resume_stalled() == 1
        killed_batch.refresh_from_db()
        assert (killed_batch.status, killed_batch.runs, killed_batch.rows_read) == (
            "processing",
            MAX_STALLED_RUNS,
            2,
        )

        stall(killed_batch)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert feed_batches_resume_stalled() == 0
        # Its committed chunk changed facts: their periods are re-scored.
        assert [callback.func.__self__.name for callback in callbacks] == [
            "performance.evaluate_feed_batch"
        ]
        killed_batch.refresh_from_db()
        assert killed_batch.status == FeedBatch.Status.FAILED
        assert "stopped 3 times in a row" in killed_batch.error_text
        assert killed_batch.created_count == 2  # the report of what was applied stays

        # A person re-processes it once the cause is fixed: from the top.
        with django_capture_on_commit_callbacks(execute=True):
            assert feed_batch_requeue(batch_id=killed_batch.id)
        killed_batch.refresh_from_db()
        assert killed_batch.status == FeedBatch.Status.COMPLETED
        assert (killed_batch.created_count, killed_batch.unchanged_count) == (2, 2)

    def test_the_beat_task_is_on_the_schedule(self):
        tasks = {entry["task"] for entry in project_settings.CELERY_BEAT_SCHEDULE.values()}
        assert resume_stalled_feed_batches.name == "performance.resume_stalled_feed_batches"
        assert resume_stalled_feed_batches.name in tasks
        assert resume_stalled_feed_batches.name in celery_app.tasks


# --- fencing -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestFencing:
    def test_a_run_that_lost_its_claim_stops_without_writing(
        self,
        source,
        alice,
        paulo,
        tmp_path,
        monkeypatch,
        small_chunks,
        django_capture_on_commit_callbacks,
    ):
        apply = ChunkApplier.apply
        calls = itertools.count(1)

        def frozen_before_the_second_chunk(self, chunk):
            if next(calls) == 2:
                # The worker froze past its lease; meanwhile a redelivered message took the
                # batch over and finished it.
                stall(self.batch)
                winner = feed_batch_process(batch_id=self.batch.id)
                assert (winner.status, winner.runs) == ("completed", 2)
            return apply(self, chunk)  # the zombie wakes up and applies its chunk

        monkeypatch.setattr(ChunkApplier, "apply", frozen_before_the_second_chunk)
        with django_capture_on_commit_callbacks() as callbacks:
            zombie = ingest_text(source, FEED, tmp_path)

        # One re-scoring, the winner's; the zombie returned the batch as the winner left it.
        assert [callback.func.__self__.name for callback in callbacks] == [
            "performance.evaluate_feed_batch"
        ]
        assert (zombie.status, zombie.runs) == ("completed", 2)
        batch = FeedBatch.objects.get()
        assert counts(batch) == ONE_RUN
        # The zombie's chunk rejected r3 again: that row error rolled back with its chunk.
        assert [line for line, _, _ in errors_of(batch)] == [4]
        assert Interaction.objects.get(external_id="r1").csat == 1

    def test_a_zombie_stops_at_its_next_heartbeat_and_cannot_finish(self, killed_batch):
        stall(killed_batch)
        zombie = _Run(FeedBatch.objects.get(pk=killed_batch.pk), renew_every=0)
        stall(killed_batch)
        winner = _batch_claim(killed_batch.id)
        assert winner is not None and winner.batch.runs == zombie.batch.runs + 1
        with pytest.raises(ClaimLost):
            zombie.keep_alive()
        assert not zombie.finish(status=FeedBatch.Status.COMPLETED)
        winner.keep_alive()  # not due yet: no query
        assert winner.finish(status=FeedBatch.Status.COMPLETED)

    def test_a_chunk_writes_the_batch_row_once_inside_its_transaction(
        self, source, alice, paulo, tmp_path, small_chunks
    ):
        with CaptureQueriesContext(connection) as queries:
            ingest_text(source, FEED, tmp_path)
        statements = [query["sql"] for query in queries.captured_queries]
        table = FeedBatch._meta.db_table
        writes = [
            index
            for index, sql in enumerate(statements)
            if sql.startswith(f'UPDATE "{table}"') and "rows_read" in sql
        ]
        assert len(writes) == 3  # one per chunk
        for index in writes:
            # The next statement closes the chunk's transaction (a savepoint in tests).
            assert statements[index + 1].startswith("RELEASE SAVEPOINT")


# --- reading past the applied rows -----------------------------------------------------------


def test_a_chunk_after_its_first_rows_keeps_the_rest_in_file_order():
    chunk = FeedChunk(
        rows=[["a"], ["b"], ["c"]],
        lines=[2, 4, 6],
        texts=["a", "b", "c"],
        problems=[(3, "", "x", None), (5, "", "y", None)],
    )
    rest = chunk.after(3)  # lines 2, 3 and 4
    assert (rest.rows, rest.lines, rest.texts) == ([["c"]], [6], ["c"])
    assert [problem[0] for problem in rest.problems] == [5]
    assert chunk.after(0) is chunk
    assert chunk.after(5).size == 0


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture
def stalled_batch(
    source, bob, alice, paulo, lisbon, sao_paulo, tmp_path, monkeypatch, small_chunks
):
    # bob's upload, and bob leads both agents' teams: every row of the file is his to write,
    # so resuming it gives the report of one run.
    source.upload_teams.add(lisbon)
    sao_paulo.leads.add(bob)
    with killed(monkeypatch, after_chunks=1):
        ingest_text(source, FEED, tmp_path)
    FeedBatch.objects.update(uploaded_by=bob, via=FeedBatch.Via.UPLOAD)
    batch = FeedBatch.objects.get()
    stall(batch)
    return batch


@pytest.mark.django_db
class TestStalledBatchPages:
    def page(self, client, batch):
        return client.get(reverse("feed-batch", args=[batch.id]))

    def resume(self, client, batch):
        return client.post(reverse("feed-batch-reprocess", args=[batch.id]), follow=True)

    @pytest.mark.parametrize("persona", ["bob", "dave"])
    def test_the_lead_of_the_team_and_an_admin_see_it_stalled_and_resume_it(
        self, client, request, persona, stalled_batch, django_capture_on_commit_callbacks
    ):
        login(client, request.getfixturevalue(persona))
        html = self.page(client, stalled_batch).content.decode()
        assert 'data-testid="stalled"' in html
        assert "badge-stalled" in html
        assert "Resume now" in html

        with django_capture_on_commit_callbacks(execute=True):
            response = self.resume(client, stalled_batch)
        assert "queued to resume after the last chunk it applied" in response.content.decode()
        assert counts(stalled_batch) == ONE_RUN

    def test_the_batch_list_shows_it_stalled(self, client, bob, stalled_batch):
        login(client, bob)
        html = client.get(reverse("feed-batches")).content.decode()
        assert "badge-stalled" in html

    def test_an_agent_is_refused(self, client, alice, stalled_batch):
        login(client, alice)
        assert self.page(client, stalled_batch).status_code == 403
        assert self.resume(client, stalled_batch).status_code == 403
        assert FeedBatch.objects.get().status == FeedBatch.Status.PROCESSING

    def test_the_lead_of_another_team_cannot_see_or_resume_it(self, client, carol, stalled_batch):
        login(client, carol)
        assert self.page(client, stalled_batch).status_code == 404
        assert self.resume(client, stalled_batch).status_code == 404
        assert FeedBatch.objects.get().status == FeedBatch.Status.PROCESSING

    def test_anonymous_is_sent_to_log_in(self, client, stalled_batch):
        assert self.page(client, stalled_batch).status_code == 302
        response = client.post(reverse("feed-batch-reprocess", args=[stalled_batch.id]))
        assert response.status_code == 302
        assert FeedBatch.objects.get().status == FeedBatch.Status.PROCESSING

    def test_a_batch_that_failed_after_some_chunks_says_what_was_applied(
        self, client, bob, stalled_batch
    ):
        FeedBatch.objects.update(status=FeedBatch.Status.FAILED, error="boom")
        login(client, bob)
        html = self.page(client, stalled_batch).content.decode()
        assert "The rows counted below were applied before it stopped." in html
        assert "No interaction was changed" not in html

    def test_the_admin_action_resumes_it_and_says_so(
        self, client, dave, stalled_batch, django_capture_on_commit_callbacks
    ):
        client.force_login(dave)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:performance_feedbatch_changelist"),
                {"action": "reprocess", "_selected_action": [stalled_batch.id]},
                follow=True,
            )
        assert [str(message) for message in response.context["messages"]] == [
            "Stalled (their run died), queued to resume after the last chunk each applied: "
            f"batch {stalled_batch.id}."
        ]
        assert counts(stalled_batch) == ONE_RUN


# --- a real process killed in the middle of a batch ------------------------------------------


def run_child(database_url: str, feed: Path, storage: Path, *phases: str):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "FEED_STORAGE_DIR": str(storage),
        "FEED_CHUNK_ROWS": "5",
    }
    env.pop("CELERY_BROKER_URL", None)  # tasks run inline in the child
    return subprocess.run(
        [sys.executable, "-m", "tests.performance.feed_batch_child", str(feed), *phases],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def one_run(tmp_path_factory) -> dict:
    """FEED ingested in one uninterrupted run, in a database of its own (a SQLite file)."""
    folder = tmp_path_factory.mktemp("one-run")
    done = run_child(
        f"sqlite:///{folder / 'one-run.sqlite3'}",
        folder / "feed.csv",
        folder / "feeds",
        "setup",
        "clean",
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("death", ["die-after-commit", "die-in-transaction"])
def test_a_process_killed_mid_batch_is_resumed_to_exact_facts_evaluations_and_report(
    death, one_run, reference_rows, tmp_path
):
    if connection.vendor == "postgresql":
        database_url = shared_database_url()  # committed for real, flushed afterwards
    else:
        database_url = f"sqlite:///{tmp_path / 'killed.sqlite3'}"
    feed, storage = tmp_path / "feed.csv", tmp_path / "feeds"

    died = run_child(database_url, feed, storage, "setup", death)
    assert died.returncode == child.DIED, died.stderr

    resumed = run_child(database_url, feed, storage, "resume")
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout.splitlines()[-1])
    assert result["killed"] == {"status": "processing", "rows_read": 15, "runs": 1}
    assert (result["while_alive"], result["resumed"], result["runs"]) == (0, 1, 2)

    assert result["report"] == one_run["report"]
    # The killed run's new facts count as created, its rejected rows as rejected.
    report = result["report"]
    assert [report[name] for name in ("rows", "created", "updated", "unchanged", "rejected")] == [
        40,
        33,
        3,
        1,
        3,
    ]
    assert result["facts"] == one_run["facts"]
    assert result["touches"] == one_run["touches"]
    # Re-scoring after the resume covered the killed run's periods, exactly as a fresh
    # evaluation of everything scores them.
    assert result["evaluations"] == result["fresh_evaluations"]
    assert result["evaluations"] == one_run["evaluations"]
    scored_days = {evaluation[2] for evaluation in result["evaluations"]}
    assert scored_days >= set(child.KILLED_RUN_DAYS)
