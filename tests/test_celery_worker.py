"""A real Celery worker, consuming through the real broker, processes feed batches.

Runs where CELERY_BROKER_URL is set and the database is PostgreSQL (a worker in another
process cannot see SQLite's in-memory test database); CI runs it that way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from performance.models import FeedBatch, Interaction
from performance.services.ingest import feed_batch_queue, feed_batch_receive, feed_batch_requeue
from performance.tasks import process_feed_batch

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


@pytest.fixture
def worker(reference_rows, feed_storage):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can share (PostgreSQL)")
    queue = f"atendo-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "FEED_STORAGE_DIR": str(feed_storage),
    }
    process = subprocess.Popen(
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
    )
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.task_default_queue = "celery"
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
