"""A real Celery worker, consuming through the real broker, processes feed batches.

Runs where CELERY_BROKER_URL is set and the database is PostgreSQL (a worker in another
process cannot see SQLite's in-memory test database); CI runs it that way.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from performance.feeds.synthetic import synthetic_agent_key, write_synthetic_feed
from performance.models import Evaluation, EvaluationChange, FeedBatch, FeedSource, Interaction
from performance.services.evaluation import evaluate_periods
from performance.services.ingest import (
    feed_batch_queue,
    feed_batch_receive,
    feed_batch_requeue,
    ingest_feed_file,
)
from performance.tasks import (
    evaluate_feed_batch,
    process_feed_batch,
    resume_stalled_feed_batches,
)
from tests.factories import FeedSourceFactory, TeamFactory, make_standard
from tests.scenarios import agent_in

ROOT = Path(__file__).resolve().parent.parent
FEED = (
    "external_id,agent,channel,started_at,csat\n"
    "w1,A1,chat,2026-10-29T10:00:00Z,5\n"
    "w2,A1,phone,2026-10-29T11:00:00Z,\n"
    "w3,P1,email,2026-10-29T12:00:00Z,2\n"
    "w4,ghost,email,2026-10-29T12:00:00Z,2\n"
)

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        not os.environ.get("CELERY_BROKER_URL"), reason="CELERY_BROKER_URL is not set"
    ),
]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(queue: str, feed_storage: Path, **env: str) -> subprocess.Popen:
    """A solo worker on `queue`, in a process group of its own (so it can be killed whole)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "FEED_STORAGE_DIR": str(feed_storage),
        **env,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


@contextmanager
def through_the_broker(queue: str) -> Iterator[None]:
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.task_default_queue = "celery"


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can share (PostgreSQL)")


@pytest.fixture
def worker(reference_rows, feed_storage):
    needs_postgresql()
    queue = f"atendo-test-{uuid.uuid4().hex[:8]}"
    process = start_worker(queue, feed_storage)
    try:
        with through_the_broker(queue):
            yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for(batch_id: int, *, runs: int, timeout: float = 60) -> FeedBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = FeedBatch.objects.get(pk=batch_id)
        if batch.runs >= runs and batch.is_finished:
            return batch
        time.sleep(0.2)
    raise AssertionError(f"the worker did not finish batch {batch_id} within {timeout}s")


def test_a_real_worker_processes_a_batch_sent_through_the_broker(
    worker, source, alice, paulo, tmp_path
):
    path = tmp_path / "feed.csv"
    path.write_text(FEED)
    with open(path, "rb") as stream:
        batch = feed_batch_receive(source=source, stream=stream, via=FeedBatch.Via.API)
    assert settings.CELERY_BROKER_URL
    assert feed_batch_queue(batch=batch)

    done = wait_for(batch.id, runs=1)
    assert (done.status, done.created_count, done.rejected_count) == ("completed", 3, 1)
    assert Interaction.objects.get(external_id="w1").csat == 5

    # The same message delivered again (a retry, a duplicate): the batch is claimed, so the
    # second delivery returns without touching it.
    before = FeedBatch.objects.filter(pk=batch.id).values().get()
    assert process_feed_batch.delay(batch.id).get(timeout=60) == "completed"
    assert FeedBatch.objects.filter(pk=batch.id).values().get() == before

    # Re-processing goes through the service, which queues one run after commit; the facts
    # converge to the same values.
    facts = list(
        Interaction.objects.order_by("external_id").values_list("external_id", "csat", "updated_at")
    )
    assert feed_batch_requeue(batch_id=batch.id)
    again = wait_for(batch.id, runs=2)
    assert (again.created_count, again.unchanged_count, again.rejected_count) == (0, 3, 1)
    after = list(
        Interaction.objects.order_by("external_id").values_list("external_id", "csat", "updated_at")
    )
    assert after == facts


SYNTHETIC_ROWS = 40_000
AGENTS, DAYS, START = 20, 10, date(2026, 10, 1)


def poll(condition, *, timeout: float, what: str, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError(
        f"{what} did not happen within {timeout}s: {list(FeedBatch.objects.values())}"
    )


def fact_values(source) -> list[tuple]:
    return list(
        Interaction.objects.filter(source=source)
        .order_by("external_id")
        .values_list(
            "external_id", "agent_id", "channel", "started_at", "handle_seconds", "csat", "nps"
        )
    )


def evaluation_rows() -> list[tuple]:
    return list(
        Evaluation.objects.order_by("agent", "standard", "period_start").values_list(
            "agent", "standard", "version", "period_start", "value", "sample_size", "outcome"
        )
    )


def sources_of_the_same_agents() -> tuple[FeedSource, FeedSource]:
    """The source the workers write and a clean one to ingest the same files into, both
    knowing the synthetic feed's AGENTS agents (in two teams) by the same keys."""
    teams = [TeamFactory(name="Lisbon", time_zone="Europe/Lisbon"), TeamFactory(name="UTC")]
    source = FeedSourceFactory(name="Helpdesk", slug="helpdesk", time_zone="UTC")
    clean_source = FeedSourceFactory(name="Reference", slug="reference", time_zone="UTC")
    for number in range(AGENTS):
        key = synthetic_agent_key("agent-", number)
        agent = agent_in(teams[number % 2], f"agent{number}", source=source, external_id=key)
        agent.external_ids.create(source=clean_source, external_id=key)
    return source, clean_source


def test_a_worker_killed_mid_batch_is_resumed_by_another_to_exact_facts_and_report(
    reference_rows, feed_storage, tmp_path, settings
):
    needs_postgresql()
    settings.FEED_BATCH_LEASE_SECONDS = 3
    source, clean_source = sources_of_the_same_agents()
    make_standard(name="Volume", metric="volume", target=100)
    make_standard(name="CSAT", metric="csat", target=80)
    path = tmp_path / "synthetic.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        write_synthetic_feed(out, rows=SYNTHETIC_ROWS, agents=AGENTS, days=DAYS, start=START)

    queue = f"atendo-test-{uuid.uuid4().hex[:8]}"
    lease = {"FEED_BATCH_LEASE_SECONDS": "3", "FEED_CHUNK_ROWS": "400"}
    first = start_worker(queue, feed_storage, **lease)
    second = None
    try:
        with through_the_broker(queue):
            with open(path, "rb") as stream:
                batch = feed_batch_receive(source=source, stream=stream, via=FeedBatch.Via.API)
            assert feed_batch_queue(batch=batch)
            running = poll(
                lambda: FeedBatch.objects.filter(
                    pk=batch.id,
                    status=FeedBatch.Status.PROCESSING,
                    rows_read__gte=2_000,
                    bytes_processed__gt=0,
                    bytes_processed__lt=batch.size_bytes,
                ).exists(),
                timeout=120,
                what="the first worker reaching the middle of the batch",
            )
            assert running
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
            killed = FeedBatch.objects.get(pk=batch.id)
            assert killed.status == FeedBatch.Status.PROCESSING
            assert 0 < killed.rows_read < SYNTHETIC_ROWS

            second = start_worker(queue, feed_storage, **lease)
            poll(
                lambda: FeedBatch.objects.get(pk=batch.id).is_stalled,
                timeout=30,
                what="the lease running out",
                every=0.2,
            )
            # The beat task, run here: the process message it sends goes to the test queue
            # (a worker of this test would send it to the default queue nobody reads here).
            assert resume_stalled_feed_batches.apply().get() == 1
            done = poll(
                lambda: FeedBatch.objects.filter(
                    pk=batch.id, status=FeedBatch.Status.COMPLETED
                ).first(),
                timeout=180,
                what=f"the resumed batch completing (batch {batch.id})",
                every=0.2,
            )
            # The worker queued the re-scoring on its default queue, which no worker of this
            # test reads: run it here (it reads the touches of both runs).
            evaluate_feed_batch.apply(args=[batch.id]).get()
            assert EvaluationChange.objects.filter(batch_id=batch.id).exists()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)

    assert done.runs == 2
    assert done.rows_read == SYNTHETIC_ROWS
    assert done.created_count == SYNTHETIC_ROWS  # the killed run's facts are counted as new
    assert (done.updated_count, done.unchanged_count, done.rejected_count) == (0, 0, 0)
    assert not done.row_errors.exists()

    # Evaluations: what re-scoring after the resume left equals a fresh full evaluation.
    scored = evaluation_rows()
    assert scored
    evaluate_periods(since=START, until=date(2026, 10, 31))
    assert evaluation_rows() == scored

    # Facts and report: those of one uninterrupted run of the same file.
    clean = ingest_feed_file(path=path, source=clean_source)
    assert (clean.rows_read, clean.created_count) == (done.rows_read, done.created_count)
    resumed_facts = [fact[1:] for fact in fact_values(source)]
    assert len(resumed_facts) == SYNTHETIC_ROWS
    assert resumed_facts == [fact[1:] for fact in fact_values(clean_source)]


def _feed_slices(path: Path, tmp_path: Path) -> list[Path]:
    """Three overlapping batches of one synthetic feed, whose facts do not depend on the
    order their chunks are applied in: two carry the contacts without surveys (rows 0-5999
    and all 8,000, so both start on the same keys at once), the third every contact's surveys
    with the columns a new fact needs (so it creates the facts it comes first to)."""
    with open(path, newline="", encoding="utf-8") as feed:
        rows = list(csv.DictReader(feed))
    surveys = ("csat", "nps")
    contact = [name for name in rows[0] if name not in surveys]
    late = ["external_id", "agent", "channel", "started_at", *surveys]
    slices = [(contact, rows[:6000]), (contact, rows), (late, rows)]
    paths = []
    for number, (columns, part) in enumerate(slices, start=1):
        out_path = tmp_path / f"batch-{number}.csv"
        with open(out_path, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(part)
        paths.append(out_path)
    return paths


def test_two_workers_on_batches_of_one_source_leave_the_facts_of_one_sequential_ingest(
    reference_rows, feed_storage, tmp_path
):
    """Two real workers take overlapping batches of one source at the same time; their
    chunks interleave (each chunk locks the source for its transaction), and the facts and
    counts are those of the same files ingested one after the other."""
    needs_postgresql()
    source, clean_source = sources_of_the_same_agents()
    make_standard(name="CSAT", metric="csat", target=80)
    make_standard(name="AHT", metric="aht", target=400)
    path = tmp_path / "synthetic.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        write_synthetic_feed(out, rows=8000, agents=AGENTS, days=DAYS, start=START)
    paths = _feed_slices(path, tmp_path)

    queue = f"atendo-test-{uuid.uuid4().hex[:8]}"
    workers = [start_worker(queue, feed_storage, FEED_CHUNK_ROWS="250") for _ in range(2)]
    try:
        with through_the_broker(queue):
            poll(
                lambda: len(celery_app.control.ping(timeout=0.5)) >= 2,
                timeout=60,
                what="both workers answering",
                every=0.2,
            )
            batches = []
            for batch_path in paths:
                with open(batch_path, "rb") as stream:
                    batch = feed_batch_receive(source=source, stream=stream, via=FeedBatch.Via.API)
                assert feed_batch_queue(batch=batch)
                batches.append(batch)
            done = [wait_for(batch.id, runs=1, timeout=180) for batch in batches]
            for batch in done:
                evaluate_feed_batch.apply(args=[batch.id]).get()
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=30)

    first, second = done[0], done[1]
    # The first two were processed at the same time, one by each worker.
    assert max(first.started_at, second.started_at) < min(first.finished_at, second.finished_at)
    for batch in done:
        assert batch.status == FeedBatch.Status.COMPLETED
        assert batch.rejected_count == 0
        assert batch.created_count + batch.updated_count + batch.unchanged_count == (
            batch.rows_read
        )
    assert [batch.rows_read for batch in done] == [6000, 8000, 8000]
    # Every key is created once, by whichever batch came first to it.
    assert sum(batch.created_count for batch in done) == 8000

    # What re-scoring after the batches left equals a fresh full evaluation.
    scored = evaluation_rows()
    assert scored
    evaluate_periods(since=START, until=date(2026, 10, 31))
    assert evaluation_rows() == scored

    sequential = [ingest_feed_file(path=batch_path, source=clean_source) for batch_path in paths]
    assert sum(batch.created_count for batch in sequential) == 8000
    facts = [fact[1:] for fact in fact_values(source)]
    assert len(facts) == 8000
    assert facts == [fact[1:] for fact in fact_values(clean_source)]
    assert Interaction.objects.filter(source=source, csat__isnull=False).exists()
