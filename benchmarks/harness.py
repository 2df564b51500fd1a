"""What every benchmark shares: sizes from the environment, the benchmark database, phases
run in their own process (so each one's peak RSS is its own) with wall-clock and CPU timing,
the summary table and the met / MISSED line of each goal.

Importable without Django: a phase process sets Django up before it calls the timing
helpers, the driver never does.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw.replace("_", ""))
    if value < 1:
        raise SystemExit(f"{name} must be at least 1")
    return value


def say(text: str = "") -> None:
    print(text, flush=True)


# --- inside a phase ---------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend (None when it is not on this host,
    or not PostgreSQL; parallel workers are not counted)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def checkpoint() -> None:
    """Start timed phases with the WAL flushed, so a checkpoint owed by one phase never
    lands in the next one's time."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")


class Timer:
    """Wall clock, process CPU and backend CPU of a timed block, started after a checkpoint."""

    def __enter__(self) -> Timer:
        checkpoint()
        self.backend = backend_cpu_seconds()
        self.process = process_cpu_seconds()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.process = process_cpu_seconds() - self.process
        backend = backend_cpu_seconds()
        self.backend = None if backend is None or self.backend is None else backend - self.backend

    def figures(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "process_cpu": self.process,
            "backend_cpu": self.backend,
            "peak_rss_mb": peak_rss_mb(),
        }


def phase_main(phases: dict[str, Any], name: str, arguments: str) -> None:
    """Run one phase and print its figures as one JSON object on the last line of stdout."""
    print(json.dumps(phases[name](**json.loads(arguments or "{}")), default=str))


# --- the driver -------------------------------------------------------------------------------


def run_phase(
    command: Sequence[str],
    name: str,
    *,
    database_url: str,
    storage: Path,
    eager_tasks: bool = False,
    env: dict[str, str] | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    """Run `command NAME JSON` in its own process on `database_url`, with production
    settings and `env`; return the JSON its last stdout line holds. With `eager_tasks`, no
    Celery broker is passed on, so tasks run in the phase's process."""
    env = {
        **{
            key: value
            for key, value in os.environ.items()
            if not (eager_tasks and key.startswith("CELERY_"))
        },
        "DATABASE_URL": database_url,
        "FEED_STORAGE_DIR": str(storage),
        # No query log in memory, no debug pages.
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get(
            "SECRET_KEY", "benchmark-only-secret-key-never-used-to-sign-anything-real"
        ),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    done = subprocess.run(
        [*command, name, json.dumps(arguments)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        # Warnings (Celery's broker-less eager mode logs one per task) only on failure.
        sys.stderr.write(done.stderr)
        raise SystemExit(f"benchmark phase {name!r} failed (exit {done.returncode})")
    lines = done.stdout.strip().splitlines()
    for line in lines[:-1]:
        say(line)
    return json.loads(lines[-1])


def ensure_database(url: str, *, setting: str) -> None:
    """Create the benchmark database when it does not exist (connecting to `postgres`)."""
    import psycopg
    from psycopg import sql

    name = psycopg.conninfo.conninfo_to_dict(url).get("dbname")
    if not name:
        raise SystemExit(f"{setting} names no database")
    try:
        psycopg.connect(url, connect_timeout=5).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise SystemExit(f"cannot connect to {url}: {exc}") from None
    maintenance = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    say(f"created database {name}")


def cpu(figures: dict[str, Any]) -> str:
    text = f"CPU: Python {figures['process_cpu']:.1f}s"
    if figures.get("backend_cpu") is not None:
        text += f", PostgreSQL backend {figures['backend_cpu']:.1f}s"
    return text


class Checks:
    """Correctness checks: a failed one is printed at once and fails the run at the end."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, ok: bool, message: str) -> None:
        if not ok:
            self.failures.append(message)
            say(f"  FAILED: {message}")


@dataclass(frozen=True)
class SummaryRow:
    label: str
    rows: int | None
    seconds: float
    ratio: float | None
    peak_rss_mb: float | None

    @property
    def rate(self) -> float | None:
        return None if self.rows is None or not self.seconds else self.rows / self.seconds


def summary(rows: Iterable[SummaryRow], *, ratio: str) -> None:
    """The summary table: one row per phase (label, rows, seconds, rate, ratio, peak RSS)."""
    rows = list(rows)
    width = max(38, *(len(row.label) + 2 for row in rows))
    say()
    say(f"{'phase':<{width}}{'rows':>11}{'seconds':>9}{'rows/s':>10}{ratio:>10}{'peak RSS':>10}")
    for row in rows:
        count = "" if row.rows is None else f"{row.rows:,}"
        rate = "" if row.rate is None else f"{row.rate:,.0f}"
        shown = "" if row.ratio is None else f"{row.ratio:.2f}"
        rss = f"{row.peak_rss_mb:.0f} MB" if row.peak_rss_mb else ""
        say(f"{row.label:<{width}}{count:>11}{row.seconds:>9.2f}{rate:>10}{shown:>10}{rss:>10}")


def report(goals: Iterable[tuple[str, bool]], checks: Checks) -> int:
    """One met / MISSED line per goal; the exit status: 1 when a correctness check failed."""
    say()
    for goal, met in goals:
        say(f"{'met   ' if met else 'MISSED'} {goal}")
    if checks.failures:
        say(f"\n{len(checks.failures)} check(s) failed: " + "; ".join(checks.failures))
        return 1
    return 0
