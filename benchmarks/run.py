"""`make bench`: how fast feeds are ingested, against a plain COPY of the same rows.

On PostgreSQL (BENCH_DATABASE_URL, created and migrated if missing) it generates a synthetic
feed of BENCH_ROWS rows (default 1,000,000: 2,000 agents, 30 days, 4 channels), then, each
phase in its own process so its peak memory is its own:

1. COPY anchor: plain COPY of the same rows into a copy of the facts table (same indexes);
2. first ingest of the file through the real service (`ingest_feed_file`);
3. re-ingest of the same file, which must write nothing;
4. the COPY anchor again; the faster of the two runs is the anchor.

Then the SQLite rate on a smaller file (BENCH_SQLITE_ROWS, default 200,000) in a temporary
database. Figures are wall-clock rows per second; the CPU seconds of the Python process and
of its PostgreSQL backend are printed too, since the machine may be shared.

Environment: BENCH_DATABASE_URL, BENCH_ROWS, BENCH_SQLITE_ROWS, BENCH_DIR (generated files,
kept between runs; default ./bench-data). Exits non-zero when a check of correctness fails
(wrong counts, or the re-ingest wrote something); missed speed goals are reported.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    Checks,
    SummaryRow,
    cpu,
    ensure_database,
    env_int,
    report,
    say,
    summary,
)
from performance.feeds.synthetic import write_synthetic_feed  # noqa: E402

PHASE = Path(__file__).resolve().parent / "phase.py"
AGENTS = 2_000
DAYS = 30
CHANNELS = ("phone", "email", "chat", "social")
START = date(2026, 9, 1)
AGENT_PREFIX = "agent-"
# Goals on a 2-core machine.
FIRST_INGEST_GOAL = 0.5
REINGEST_GOAL = 1.0
RSS_GOAL_MB = 300


@dataclass
class Figure:
    label: str
    rows: int
    seconds: float
    peak_rss_mb: float | None = None
    process_cpu: float | None = None
    backend_cpu: float | None = None

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    @classmethod
    def of(cls, label: str, result: dict[str, Any]) -> Figure:
        return cls(
            label=label,
            rows=result["rows"],
            seconds=result["seconds"],
            peak_rss_mb=result.get("peak_rss_mb"),
            process_cpu=result.get("process_cpu"),
            backend_cpu=result.get("backend_cpu"),
        )


def run_phase(name: str, database_url: str, storage: Path, **arguments: Any) -> dict[str, Any]:
    return harness.run_phase(
        [sys.executable, str(PHASE)],
        name,
        database_url=database_url,
        storage=storage,
        **arguments,
    )


def synthetic_feed(directory: Path, rows: int) -> Path:
    """The feed file of `rows` rows, generated once and kept in `directory`."""
    path = directory / f"feed-{rows}-{AGENTS}x{DAYS}.csv"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        with open(partial, "w", newline="", encoding="utf-8") as out:
            write_synthetic_feed(
                out,
                rows=rows,
                agents=AGENTS,
                days=DAYS,
                channels=CHANNELS,
                start=START,
                seed=0,
                agent_prefix=AGENT_PREFIX,
            )
        partial.rename(path)
        say(f"generated {path} in {time.perf_counter() - started:.1f}s")
    return path


def describe(figure: Figure, anchor: Figure | None = None) -> str:
    parts = [f"{figure.rows:,} rows in {figure.seconds:.2f}s = {figure.rate:,.0f} rows/s"]
    if anchor is not None:
        parts.append(f"{figure.rate / anchor.rate:.2f}x COPY")
    if figure.peak_rss_mb is not None:
        parts.append(f"peak RSS {figure.peak_rss_mb:.0f} MB")
    if figure.process_cpu is not None:
        parts.append(cpu({"process_cpu": figure.process_cpu, "backend_cpu": figure.backend_cpu}))
    return "; ".join(parts)


def postgresql_figures(
    url: str, feed: Path, work: Path, rows: int, check: Checks
) -> tuple[Figure, Figure, Figure]:
    ensure_database(url, setting="BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="atendo-bench-", dir=work) as scratch:
        storage = Path(scratch) / "feeds"
        say("preparing the database (migrate, 2,000 agents, no facts)")
        run_phase("prepare", url, storage, agents=AGENTS, agent_prefix=AGENT_PREFIX)
        copy_file = Path(scratch) / "copy.csv"
        run_phase("copy_prepare", url, storage, path=str(feed), out=str(copy_file))

        say("COPY anchor")
        anchors = [Figure.of("COPY", run_phase("copy_anchor", url, storage, path=str(copy_file)))]
        say(f"  {describe(anchors[0])}")

        say("first ingest")
        result = run_phase("ingest", url, storage, path=str(feed))
        first = Figure.of("first ingest", result)
        say(f"  {describe(first, anchors[0])}")
        check(result["status"] == "completed", f"first ingest {result['status']}")
        check(
            (result["rows"], result["created"]) == (rows, rows),
            f"first ingest read {result['rows']:,} rows and created {result['created']:,}",
        )
        before = run_phase("facts_state", url, storage)

        say("re-ingest of the same file")
        result = run_phase("ingest", url, storage, path=str(feed))
        again = Figure.of("re-ingest", result)
        after = run_phase("facts_state", url, storage)
        say(f"  {describe(again, anchors[0])}")
        say(
            f"  report: {result['created']:,} created, {result['updated']:,} updated, "
            f"{result['unchanged']:,} unchanged, {result['rejected']:,} rejected"
        )
        say(
            f"  facts {before['facts']:,} -> {after['facts']:,}; latest write "
            f"{before['max_updated_at']} -> {after['max_updated_at']}; row versions written "
            f"to the facts table {before['row_versions_written']:,} -> "
            f"{after['row_versions_written']:,}"
        )
        check(result["unchanged"] == rows, "re-ingest: not every row was unchanged")
        check(after == before, "re-ingest wrote facts")

        say("COPY anchor again")
        anchors.append(
            Figure.of("COPY", run_phase("copy_anchor", url, storage, path=str(copy_file)))
        )
        say(f"  {describe(anchors[1])}")
    anchor = max(anchors, key=lambda figure: figure.rate)
    anchor.label = "COPY anchor (faster of 2)"
    return anchor, first, again


def sqlite_figure(feed: Path, work: Path, rows: int, check: Checks) -> Figure:
    with tempfile.TemporaryDirectory(prefix="atendo-bench-sqlite-", dir=work) as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        storage = Path(scratch) / "feeds"
        run_phase("prepare", url, storage, agents=AGENTS, agent_prefix=AGENT_PREFIX)
        result = run_phase("ingest", url, storage, path=str(feed))
        check(
            (result["status"], result["created"]) == ("completed", rows),
            f"SQLite ingest {result['status']}, created {result['created']:,} of {rows:,}",
        )
        return Figure.of(f"first ingest, SQLite ({rows:,} rows)", result)


def main() -> int:
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/atendo_bench"
    ).strip()
    rows = env_int("BENCH_ROWS", 1_000_000)
    sqlite_rows = env_int("BENCH_SQLITE_ROWS", min(rows, 200_000))
    work = Path(os.environ.get("BENCH_DIR", "").strip() or ROOT / "bench-data")
    work.mkdir(parents=True, exist_ok=True)
    check = Checks()

    say(
        f"Atendo ingest benchmark: {rows:,} rows, {AGENTS:,} agents, {DAYS} days, "
        f"{len(CHANNELS)} channels, {os.cpu_count()} CPUs"
    )
    feed = synthetic_feed(work, rows)
    anchor, first, again = postgresql_figures(url, feed, work, rows, check)
    say(f"SQLite ({sqlite_rows:,} rows, temporary database)")
    sqlite = sqlite_figure(synthetic_feed(work, sqlite_rows), work, sqlite_rows, check)
    say(f"  {describe(sqlite)}")

    summary(
        (
            SummaryRow(figure.label, figure.rows, figure.seconds, ratio, figure.peak_rss_mb)
            for figure, ratio in (
                (anchor, 1.0),
                (first, first.rate / anchor.rate),
                (again, again.rate / anchor.rate),
                (sqlite, None),
            )
        ),
        ratio="x COPY",
    )
    goals = (
        (
            f"first ingest >= {FIRST_INGEST_GOAL}x COPY",
            first.rate / anchor.rate >= FIRST_INGEST_GOAL,
        ),
        (f"re-ingest >= {REINGEST_GOAL}x COPY", again.rate / anchor.rate >= REINGEST_GOAL),
        ("re-ingest wrote nothing", not any("re-ingest" in f for f in check.failures)),
        (
            f"peak RSS < {RSS_GOAL_MB} MB",
            max(f.peak_rss_mb or 0 for f in (first, again, sqlite)) < RSS_GOAL_MB,
        ),
    )
    return report(goals, check)


if __name__ == "__main__":
    sys.exit(main())
