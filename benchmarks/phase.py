"""One benchmark phase, run in its own process so its peak memory is its own.

`python benchmarks/phase.py PHASE '{"json": "arguments"}'` sets Django up on DATABASE_URL,
runs the phase and prints one JSON object (the phase's figures) as its last line.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import sys
import time
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

from performance.models import (  # noqa: E402
    Agent,
    AgentExternalId,
    FeedBatch,
    FeedSource,
    Interaction,
    Team,
)
from performance.services.fact_store import FACT_FIELDS  # noqa: E402
from performance.services.ingest import ingest_feed_file  # noqa: E402

SOURCE_SLUG = "bench"
COPY_TABLE = "bench_copy_interaction"
TEAM_ZONES = (
    ("Bench Lisbon", "Europe/Lisbon"),
    ("Bench Sao Paulo", "America/Sao_Paulo"),
    ("Bench UTC", "UTC"),
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(*, agents: int, agent_prefix: str) -> dict[str, Any]:
    """Migrate, then make sure the bench source and its agents exist; empty its facts."""
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
        wanted = [f"{agent_prefix}{n:05d}" for n in range(agents)]
        missing = [key for key in wanted if key not in known]
        if missing:
            User = get_user_model()
            users = User.objects.bulk_create(
                [User(username=f"bench-{key}", password="!") for key in missing]
            )
            if connection.vendor != "postgresql":
                users = list(User.objects.filter(username__in=[u.username for u in users]))
            created = Agent.objects.bulk_create(
                [Agent(user=user, team=teams[i % len(teams)]) for i, user in enumerate(users)]
            )
            if connection.vendor != "postgresql":
                created = list(Agent.objects.filter(user__in=users).order_by("user__username"))
            by_user = {agent.user_id: agent for agent in created}
            AgentExternalId.objects.bulk_create(
                [
                    AgentExternalId(
                        source=source,
                        agent=by_user[user.id],
                        external_id=user.username.removeprefix("bench-"),
                    )
                    for user in users
                ]
            )
    # The benchmark database is its own: start every run from an empty facts table.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {Interaction._meta.db_table} CASCADE")
        else:
            cursor.execute(f"DELETE FROM {Interaction._meta.db_table}")
    return {"source_id": source.id, "agents_created": len(missing)}


def checkpoint() -> None:
    """Start each timed phase with the WAL flushed, so one phase's checkpoint never lands
    in the next one's time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")


def ingest(*, path: str) -> dict[str, Any]:
    source = FeedSource.objects.get(slug=SOURCE_SLUG)
    checkpoint()
    started = time.perf_counter()
    batch = ingest_feed_file(path=Path(path), source=source, via=FeedBatch.Via.CLI)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "status": batch.status,
        "error": batch.error,
        "rows": batch.rows_read,
        "created": batch.created_count,
        "updated": batch.updated_count,
        "unchanged": batch.unchanged_count,
        "rejected": batch.rejected_count,
    }


def facts_state() -> dict[str, Any]:
    source = FeedSource.objects.get(slug=SOURCE_SLUG)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), max(updated_at) FROM {Interaction._meta.db_table} "
            "WHERE source_id = %s",
            [source.id],
        )
        count, latest = cursor.fetchone()
    return {"facts": count, "max_updated_at": latest.isoformat() if latest else None}


COPY_COLUMNS = ("source_id", "external_id", *FACT_FIELDS, "updated_at")


def copy_anchor(*, path: str) -> dict[str, Any]:
    """Plain COPY of a COPY-ready file into a copy of the facts table with its indexes."""
    table = Interaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        cursor.execute(f"CREATE TABLE {COPY_TABLE} (LIKE {table} INCLUDING ALL)")
    checkpoint()
    columns = ", ".join(COPY_COLUMNS)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, open(path, "rb") as data:
        copy_sql = (
            f"COPY {COPY_TABLE} ({columns}) FROM STDIN "
            "(FORMAT csv, HEADER true, FORCE_NOT_NULL (case_id))"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            while block := data.read(1 << 20):
                copy.write(block)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {COPY_TABLE}")
        (rows,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {COPY_TABLE}")
    return {"seconds": seconds, "rows": rows, "peak_rss_mb": peak_rss_mb()}


def copy_prepare(*, path: str, out: str) -> dict[str, Any]:
    """Turn the feed into the facts table's own columns (agent key -> agent id), untimed."""
    source = FeedSource.objects.get(slug=SOURCE_SLUG)
    agent_ids = {
        key.lower(): agent_id
        for key, agent_id in AgentExternalId.objects.filter(source=source).values_list(
            "external_id", "agent_id"
        )
    }
    now = timezone.now().isoformat()
    rows = 0
    with open(path, newline="", encoding="utf-8-sig") as feed, open(out, "w", newline="") as ready:
        reader = csv.DictReader(feed)
        writer = csv.writer(ready)
        writer.writerow(COPY_COLUMNS)
        for raw in reader:
            raw["agent_id"] = agent_ids[raw["agent"].strip().lower()]
            raw["source_id"] = source.id
            raw["updated_at"] = now
            writer.writerow([raw.get(column, "") for column in COPY_COLUMNS])
            rows += 1
    return {"rows": rows}


PHASES = {
    "copy_prepare": copy_prepare,
    "prepare": prepare,
    "ingest": ingest,
    "facts_state": facts_state,
    "copy_anchor": copy_anchor,
}


def main() -> None:
    phase, arguments = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    result = PHASES[phase](**arguments)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
