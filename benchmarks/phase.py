"""One benchmark phase, run in its own process so that its peak memory is its own.

`python benchmarks/phase.py PHASE '{"json": "arguments"}'` sets Django up on DATABASE_URL,
runs the phase and prints its figures as one JSON object on the last line of stdout.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.harness import Timer, phase_main  # noqa: E402
from performance.models import (  # noqa: E402
    Agent,
    AgentExternalId,
    FeedBatch,
    FeedSource,
    Interaction,
    Team,
)
from performance.services.ingest import ingest_feed_file  # noqa: E402
from performance.services.ingest.fact_store import FACT_FIELDS  # noqa: E402
from performance.services.organisation import agent_memberships_open_missing  # noqa: E402

SOURCE_SLUG = "bench"
FACTS_TABLE = Interaction._meta.db_table
COPY_TABLE = "bench_copy_interaction"
COPY_COLUMNS = ("source_id", "external_id", *FACT_FIELDS, "updated_at")
# Agents are spread over teams in three time zones, as in a real operation: the batch
# records each changed fact's (agent, local date).
TEAM_ZONES = (
    ("Bench Lisbon", "Europe/Lisbon"),
    ("Bench Sao Paulo", "America/Sao_Paulo"),
    ("Bench UTC", "UTC"),
)


def prepare(*, agents: int, agent_prefix: str) -> dict[str, Any]:
    """Migrate; make sure the bench source and its agents exist; start with no facts."""
    call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        source, _ = FeedSource.objects.get_or_create(
            slug=SOURCE_SLUG, defaults={"name": "Benchmark feed", "time_zone": "UTC"}
        )
        teams = [
            Team.objects.get_or_create(name=name, defaults={"time_zone": zone})[0]
            for name, zone in TEAM_ZONES
        ]
        known = set(
            AgentExternalId.objects.filter(source=source).values_list("external_id", flat=True)
        )
        missing = [f"{agent_prefix}{n:05d}" for n in range(agents)]
        missing = [key for key in missing if key not in known]
        User = get_user_model()
        User.objects.bulk_create([User(username=f"bench-{key}", password="!") for key in missing])
        users = User.objects.filter(username__in=[f"bench-{key}" for key in missing])
        Agent.objects.bulk_create(
            [Agent(user=user, team=teams[user.id % len(teams)]) for user in users]
        )
        AgentExternalId.objects.bulk_create(
            [
                AgentExternalId(
                    source=source,
                    agent=agent,
                    external_id=agent.user.username.removeprefix("bench-"),
                )
                for agent in Agent.objects.filter(user__in=users).select_related("user")
            ]
        )
        agent_memberships_open_missing()
    # The benchmark database is the benchmark's own: every run starts from empty facts.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {FACTS_TABLE} CASCADE")
            cursor.execute(f"VACUUM ANALYZE {FACTS_TABLE}")
        else:
            cursor.execute(f"DELETE FROM {FACTS_TABLE}")
    return {"agents_created": len(missing)}


def ingest(*, path: str) -> dict[str, Any]:
    """Receive and process the file through the real service, as `manage.py ingest` does."""
    source = FeedSource.objects.get(slug=SOURCE_SLUG)
    with Timer() as timer:
        batch = ingest_feed_file(path=Path(path), source=source, via=FeedBatch.Via.CLI)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
    return {
        **timer.figures(),
        "status": batch.status,
        "error": batch.error,
        "rows": batch.rows_read,
        "created": batch.created_count,
        "updated": batch.updated_count,
        "unchanged": batch.unchanged_count,
        "rejected": batch.rejected_count,
    }


def facts_state() -> dict[str, Any]:
    """What a write would change: how many facts, when the latest one was written and, on
    PostgreSQL, how many row versions were ever inserted, updated or deleted in the table
    (a rewrite of the same values counts too)."""
    source = FeedSource.objects.get(slug=SOURCE_SLUG)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), max(updated_at) FROM {FACTS_TABLE} WHERE source_id = %s",
            [source.id],
        )
        count, latest = cursor.fetchone()
        written = None
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
                "WHERE relid = %s::regclass",
                [FACTS_TABLE],
            )
            (written,) = cursor.fetchone()
    return {
        "facts": count,
        "max_updated_at": latest.isoformat() if latest else None,
        "row_versions_written": written,
    }


def copy_prepare(*, path: str, out: str) -> dict[str, Any]:
    """Write the feed's rows in the facts table's own columns (agent key -> agent id)."""
    source = FeedSource.objects.get(slug=SOURCE_SLUG)
    agent_ids = {
        key.lower(): agent_id
        for key, agent_id in AgentExternalId.objects.filter(source=source).values_list(
            "external_id", "agent_id"
        )
    }
    now = timezone.now().isoformat()
    rows = 0
    with open(path, newline="", encoding="utf-8") as feed, open(out, "w", newline="") as ready:
        writer = csv.writer(ready)
        writer.writerow(COPY_COLUMNS)
        for raw in csv.DictReader(feed):
            raw["agent_id"] = agent_ids[raw["agent"].strip().lower()]
            raw["source_id"] = source.id
            raw["updated_at"] = now
            # As the ingest stores them: the feed's score kept as the feed's, no review.
            raw["feed_qa_score"] = raw.get("qa_score", "")
            raw["qa_reviewed"] = "false"
            writer.writerow([raw.get(column, "") for column in COPY_COLUMNS])
            rows += 1
    return {"rows": rows}


def copy_anchor(*, path: str) -> dict[str, Any]:
    """Plain COPY of the same rows into a copy of the facts table, indexes included."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        cursor.execute(f"CREATE TABLE {COPY_TABLE} (LIKE {FACTS_TABLE} INCLUDING ALL)")
    sql = (
        f"COPY {COPY_TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN "
        "(FORMAT csv, HEADER true, FORCE_NOT_NULL (case_id))"
    )
    with (
        Timer() as timer,
        transaction.atomic(),
        connection.cursor() as cursor,
        open(path, "rb") as data,
        cursor.cursor.copy(sql) as copy,
    ):
        while block := data.read(1 << 20):
            copy.write(block)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {COPY_TABLE}")
        (rows,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {COPY_TABLE}")
    return {**timer.figures(), "rows": rows}


PHASES = {
    "prepare": prepare,
    "ingest": ingest,
    "facts_state": facts_state,
    "copy_prepare": copy_prepare,
    "copy_anchor": copy_anchor,
}


if __name__ == "__main__":
    phase_main(PHASES, sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}")
