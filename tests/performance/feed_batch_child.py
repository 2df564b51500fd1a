"""A separate process for the tests that kill a run in the middle of a feed batch.

    python -m tests.performance.feed_batch_child FEED PHASE [PHASE ...]

against the database in DATABASE_URL (the test database on PostgreSQL, a file on SQLite),
with FEED_CHUNK_ROWS rows per chunk, phases run in order:

- `setup` builds a small world (migrating a fresh SQLite file first) and writes FEED;
- `clean` ingests FEED in one uninterrupted run and prints the state as JSON;
- `die-after-commit` / `die-in-transaction` ingest FEED and end the process with
  os._exit(DIED) right after chunk DIE_AFTER_CHUNKS commits, or inside the next chunk's
  transaction after its writes (nothing runs after: no except, no finally, no atexit);
- `resume` plays the beat's recovery (first while the lease holds, then once it ran out)
  and prints the state as JSON, with the evaluations of a fresh full evaluate beside it.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import django

DIED = 19
DIE_AFTER_CHUNKS = 3
# Days only the first DIE_AFTER_CHUNKS chunks (the killed run's) touch.
KILLED_RUN_DAYS = ("2026-10-02", "2026-10-03")
FIRST_DAY, LAST_DAY = date(2026, 10, 1), date(2026, 10, 8)
HEADER = "external_id,agent,channel,started_at,handle_seconds,csat"


def feed_lines() -> list[str]:
    """40 rows in chunks of 5: the first 15 (3 chunks) create facts on 1-3 October, reject
    two rows, and are corrected, moved or resent by the rows after them (4-8 October)."""
    lines = []
    for n in range(15):
        agent = "A1" if n % 2 else "P1"
        day = 1 + n // 5
        lines.append(f"i{n},{agent},chat,2026-10-0{day}T1{n % 10}:00:00Z,{100 + n},{1 + n % 5}")
    lines[6] = "i6,ghost,chat,2026-10-02T16:00:00Z,106,2"  # unknown agent
    lines[12] = "i12,A1,chat,2026-10-03T12:00:00Z,112,9"  # csat out of range
    for n in range(15, 40):
        agent = "A1" if n % 3 else "P1"
        day = 4 + (n - 15) // 5
        lines.append(f"i{n},{agent},phone,2026-10-0{day}T0{n % 10}:00:00Z,{200 + n},{1 + n % 5}")
    lines[17] = "i1,A1,chat,2026-10-01T11:00:00Z,101,5"  # a correction of a killed-run fact
    lines[22] = "i3,A1,chat,2026-10-06T13:00:00Z,103,4"  # moves a fact to another day
    lines[27] = lines[4]  # the same row sent again: unchanged
    lines[31] = "i0,,,,,3"  # a late survey for a killed-run fact
    lines[36] = "i36,P1,fax,2026-10-08T06:00:00Z,236,1"  # unknown channel
    return lines


def setup(feed: Path) -> None:
    from django.core.management import call_command
    from django.db import connection

    from tests.factories import FeedSourceFactory, TeamFactory, make_standard
    from tests.scenarios import agent_in

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
    source = FeedSourceFactory(name="Helpdesk", slug="helpdesk", time_zone="UTC")
    lisbon = TeamFactory(name="Lisbon", time_zone="Europe/Lisbon")
    sao_paulo = TeamFactory(name="Sao Paulo", time_zone="America/Sao_Paulo")
    agent_in(lisbon, "alice", source=source, external_id="A1")
    agent_in(sao_paulo, "paulo", source=source, external_id="P1")
    make_standard(name="Volume", metric="volume", target=1)
    make_standard(name="CSAT", metric="csat", target=50)
    make_standard(name="Handle time", metric="aht", target=150, period="week")
    feed.write_text("\n".join([HEADER, *feed_lines()]) + "\n", encoding="utf-8")


def ingest(feed: Path) -> Any:
    from performance.models import FeedSource
    from performance.services.ingest import ingest_feed_file

    return ingest_feed_file(path=feed, source=FeedSource.objects.get(slug="helpdesk"))


def die(feed: Path, *, in_transaction: bool) -> None:
    from performance.services.ingest import batches
    from performance.services.ingest.chunks import ChunkApplier

    apply, save_progress = ChunkApplier.apply, batches._Run.save_progress
    committed = 0

    def apply_then_die(self: ChunkApplier, chunk: Any) -> Any:
        nonlocal committed
        outcome = apply(self, chunk)
        committed += 1
        if committed == DIE_AFTER_CHUNKS and not in_transaction:
            os._exit(DIED)
        return outcome

    def save_then_die(self: Any, chunk: Any, outcome: Any) -> None:
        save_progress(self, chunk, outcome)
        if committed == DIE_AFTER_CHUNKS:
            os._exit(DIED)  # inside the chunk's transaction, after its facts and counters

    ChunkApplier.apply = apply_then_die
    batches._Run.save_progress = save_then_die
    ingest(feed)
    sys.exit("the run was not killed")


def resume() -> dict[str, Any]:
    from django.conf import settings

    from performance.models import FeedBatch
    from performance.services.evaluation import evaluate_periods
    from performance.services.ingest import feed_batches_resume_stalled

    batch = FeedBatch.objects.get()
    killed = {"status": batch.status, "rows_read": batch.rows_read, "runs": batch.runs}
    while_alive = feed_batches_resume_stalled()
    # The lease runs out: the killed run's heartbeat is now older than it.
    lease = timedelta(seconds=settings.FEED_BATCH_LEASE_SECONDS + 1)
    FeedBatch.objects.filter(pk=batch.pk).update(heartbeat_at=batch.heartbeat_at - lease)
    resumed = feed_batches_resume_stalled()  # eager: processes, then re-scores
    result = {"killed": killed, "while_alive": while_alive, "resumed": resumed, **state()}
    evaluate_periods(since=FIRST_DAY - timedelta(days=7), until=LAST_DAY + timedelta(days=7))
    result["fresh_evaluations"] = evaluations()
    return result


def state() -> dict[str, Any]:
    from performance.models import FeedBatch, FeedBatchTouch, Interaction
    from performance.services.ingest import batch_report

    batch = FeedBatch.objects.select_related("source").get()
    report = batch_report(batch)
    del report["batch"]
    facts = [
        {
            key: value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
            for key, value in fact.items()
        }
        for fact in Interaction.objects.order_by("external_id").values(
            "external_id",
            "agent__user__username",
            "channel",
            "started_at",
            "ended_at",
            "handle_seconds",
            "csat",
        )
    ]
    touches = sorted(
        [username, day.isoformat()]
        for username, day in FeedBatchTouch.objects.values_list(
            "agent__user__username", "local_date"
        )
    )
    return {
        "report": report,
        "runs": batch.runs,
        "facts": facts,
        "touches": touches,
        "evaluations": evaluations(),
    }


def evaluations() -> list[list[Any]]:
    from performance.models import Evaluation

    return [
        [
            username,
            standard,
            period_start.isoformat(),
            None if value is None else round(value, 9),
            sample_size,
            outcome,
            points,
        ]
        for username, standard, period_start, value, sample_size, outcome, points in (
            Evaluation.objects.order_by(
                "agent__user__username", "standard__name", "period_start"
            ).values_list(
                "agent__user__username",
                "standard__name",
                "period_start",
                "value",
                "sample_size",
                "outcome",
                "points",
            )
        )
    ]


def main(feed: Path, phases: list[str]) -> None:
    for phase in phases:
        match phase:
            case "setup":
                setup(feed)
            case "clean":
                ingest(feed)
                print(json.dumps(state()))
            case "die-after-commit" | "die-in-transaction":
                die(feed, in_transaction=phase == "die-in-transaction")
            case "resume":
                print(json.dumps(resume()))
            case _:
                sys.exit(f"unknown phase {phase}")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    main(Path(sys.argv[1]), sys.argv[2:])
