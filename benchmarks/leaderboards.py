"""Leaderboard benchmark: a month's board of 10,000 agents (BENCH_BOARD_AGENTS), its query
alone against two anchors measured in the same run (the database's index plus a count; Redis
ZREVRANGE + ZREVRANK on a sorted set of the same scores), then the page served by the
production server (gunicorn) to 50 concurrent keep-alive clients for 30 s (loopback only):
throughput, errors and latency percentiles, beside the same load on the stack's floor
(/health/, and the lightest page of the signed-in layout) in the same run. Goal: page
p95 < 50 ms.

    .venv/bin/python benchmarks/leaderboards.py

PostgreSQL at BENCH_BOARD_DATABASE_URL (created if missing), Redis at BENCH_BOARD_REDIS_URL
(a database number of its own: the run empties it).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Checks, SummaryRow, env_int, say, summary  # noqa: E402

TEAMS = 40
BOARD_SLUG = "bench-geral"
PASSWORD = "bench-agent-password"
P95_GOAL_MS = 50.0
CLIENTS = 50
# The pages put under load, in turn: the stack's floor first (no login, then the lightest
# page of the signed-in layout), then the board. Under load the ratio is of p95s.
LOADED_PAGES = {
    "health": ("anchor: /health/ (no login)", "/health/"),
    "signed_in": ("anchor: lightest signed-in page", "/password/change/"),
    "board": ("leaderboard page", f"/rewards/leaderboards/{BOARD_SLUG}/?window=month"),
}


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# --- phases (each in its own process) ---------------------------------------------------------


def prepare(*, agents: int) -> dict[str, Any]:
    """Teams, agents and a month of points written through the real ledger writer (so the
    totals are the ones boards read); kept when already there. Not timed."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from performance.models import Agent, Team
    from rewards.models import Leaderboard, PointsEntry
    from rewards.services.ledger import NewEntry, balances_lock, entries_append

    call_command("migrate", interactive=False, verbosity=0)
    user_model = get_user_model()
    board = Leaderboard.objects.filter(slug=BOARD_SLUG).first()
    names = [f"bench-a{n:05d}" for n in range(agents)]
    existing = set(
        user_model.objects.filter(username__startswith="bench-a").values_list("username", flat=True)
    )
    missing = [name for name in names if name not in existing]
    if board is None or missing:
        today = timezone.localdate()
        teams = [
            Team.objects.get_or_create(name=f"Bench {n:02d}", defaults={"time_zone": "UTC"})[0]
            for n in range(TEAMS)
        ]
        password = make_password(PASSWORD)
        users = user_model.objects.bulk_create(
            [
                user_model(
                    username=name,
                    first_name="Agent",
                    last_name=name.removeprefix("bench-a"),
                    password=password,
                )
                for name in missing
            ]
        )
        Agent.objects.bulk_create(
            [Agent(user=user, team=teams[i % TEAMS]) for i, user in enumerate(users)]
        )
        ids = list(
            Agent.objects.filter(user__username__startswith="bench-a").values_list("pk", flat=True)
        )
        rng = random.Random(11)
        for first in range(0, len(ids), 2_000):
            chunk = ids[first : first + 2_000]
            with transaction.atomic():
                balances_lock(chunk)
                entries_append(
                    [
                        NewEntry(
                            agent_id=agent_id,
                            points=rng.randint(1, 3_000),
                            kind=PointsEntry.Kind.MANUAL_ADJUSTMENT,
                            earned_on=today.replace(day=1),
                            reference=f"bench:{agent_id}",
                            idempotency_key=f"bench:{agent_id}:{today:%Y-%m}",
                            note="benchmark points",
                        )
                        for agent_id in chunk
                        if not PointsEntry.objects.filter(
                            idempotency_key=f"bench:{agent_id}:{today:%Y-%m}"
                        ).exists()
                    ]
                )
        board, _ = Leaderboard.objects.get_or_create(
            slug=BOARD_SLUG,
            defaults={"name": "Bench", "default_window": "month", "top_n": 50, "position": 0},
        )
    # The viewer: an agent in the middle of the board, signed in by a session made here.
    viewer = Agent.objects.select_related("user").get(user__username=names[agents // 2])
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(viewer.user_id)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = viewer.user.get_session_auth_hash()
    session.create()
    return {
        "seconds": 0.0,
        "peak_rss_mb": harness.peak_rss_mb(),
        "agents": Agent.objects.filter(user__username__in=names).count(),
        "session": session.session_key,
        "viewer_agent": viewer.pk,
    }


def queries(*, repeats: int, viewer_agent: int, redis_url: str) -> dict[str, Any]:
    """The board's query alone, and the two anchors, `repeats` times each (ms)."""
    import redis
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from performance.models import Agent
    from rewards import board_cache
    from rewards.models import Leaderboard, PointsTotal
    from rewards.selectors import leaderboard_for
    from rewards.windows import Span, window_containing

    window = window_containing(timezone.localdate(), Span.MONTH)
    board = Leaderboard.objects.get(slug=BOARD_SLUG)
    viewer = Agent.objects.select_related("user").get(pk=viewer_agent).user
    table = PointsTotal._meta.db_table

    def timed(call) -> list[float]:
        call()
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            samples.append((time.perf_counter() - start) * 1000)
        return samples

    def database_anchor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT agent_id, points FROM {table} WHERE span = 'month' AND starts_on = %s "
                "AND channel = '' ORDER BY points DESC, agent_id LIMIT 50",
                [window.start],
            )
            cursor.fetchall()
            cursor.execute(
                f"SELECT COUNT(*) FROM {table} WHERE span = 'month' AND starts_on = %s AND "
                f"channel = '' AND points > (SELECT points FROM {table} WHERE span = 'month' "
                "AND starts_on = %s AND channel = '' AND agent_id = %s)",
                [window.start, window.start, viewer_agent],
            )
            cursor.fetchone()

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    scores = dict(
        PointsTotal.objects.filter(span="month", starts_on=window.start, channel="").values_list(
            "agent_id", "points"
        )
    )
    client.zadd("anchor", {str(agent_id): points for agent_id, points in scores.items()})

    def redis_anchor() -> None:
        pipe = client.pipeline()
        pipe.zrevrange("anchor", 0, 49, withscores=True)
        pipe.zrevrank("anchor", str(viewer_agent))
        pipe.zscore("anchor", str(viewer_agent))
        pipe.execute()

    def board_query() -> None:
        leaderboard_for(board, window, viewer=viewer)

    figures: dict[str, Any] = {"seconds": 0.0, "peak_rss_mb": harness.peak_rss_mb()}
    figures["database_anchor"] = timed(database_anchor)
    figures["redis_anchor"] = timed(redis_anchor)
    settings.LEADERBOARD_REDIS_URL = ""
    figures["board_from_database"] = timed(board_query)
    settings.LEADERBOARD_REDIS_URL = redis_url
    board_cache._client.cache_clear()
    figures["board_from_redis"] = timed(board_query)
    figures["ranked"] = len(scores)
    return figures


PHASES = {"prepare": prepare, "queries": queries}


def phase_main(name: str, arguments: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    harness.phase_main(PHASES, name, arguments)


# --- the page under load ----------------------------------------------------------------------


async def _client(port: int, path: str, cookie: str, until: float, results: dict) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    reader = writer = None
    while time.perf_counter() < until:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            start = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            await reader.readexactly(length)
            results["latencies"].append((time.perf_counter() - start) * 1000)
            if b" 200 " not in status_line:
                results["errors"] += 1
            if close:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            results["errors"] += 1
            writer = None
    if writer is not None:
        writer.close()


async def _load(port: int, path: str, cookie: str, seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {"latencies": [], "errors": 0}
    until = time.perf_counter() + seconds
    await asyncio.gather(*(_client(port, path, cookie, until, results) for _ in range(CLIENTS)))
    return results


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_and_load(
    url: str, redis_url: str, cookie: str, seconds: float, paths: dict[str, tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """Each path under the same load, in turn, from one gunicorn."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEADERBOARD_REDIS_URL": redis_url,
        "CACHE_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get(
            "SECRET_KEY", "benchmark-only-secret-key-never-used-to-sign-anything-real"
        ),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    workers = env_int("BENCH_BOARD_WORKERS", 4)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        figures = {}
        for name, (_label, path) in paths.items():
            asyncio.run(_load(port, path, cookie, 2))  # warm the workers (and the sorted set)
            started = time.perf_counter()
            results = asyncio.run(_load(port, path, cookie, seconds))
            figures[name] = _load_figures(results, time.perf_counter() - started, workers)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return figures


def _load_figures(results: dict[str, Any], elapsed: float, workers: int) -> dict[str, Any]:
    latencies = results["latencies"]
    return {
        "requests": len(latencies),
        "errors": results["errors"],
        "seconds": elapsed,
        "throughput": len(latencies) / elapsed,
        "p50": _percentile(latencies, 0.50),
        "p95": _percentile(latencies, 0.95),
        "p99": _percentile(latencies, 0.99),
        "workers": workers,
    }


def main() -> int:
    url = os.environ.get(
        "BENCH_BOARD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/atendo_boardbench"
    ).strip()
    redis_url = os.environ.get("BENCH_BOARD_REDIS_URL", "redis://127.0.0.1:6379/12").strip()
    agents = env_int("BENCH_BOARD_AGENTS", 10_000)
    repeats = env_int("BENCH_BOARD_REPEATS", 200)
    seconds = float(env_int("BENCH_BOARD_SECONDS", 30))
    work = Path(os.environ.get("BENCH_DIR", "").strip() or ROOT / "bench-data") / "boards"
    work.mkdir(parents=True, exist_ok=True)
    checks = Checks()

    def run_phase(name: str, **arguments: Any) -> dict[str, Any]:
        return harness.run_phase(
            [sys.executable, __file__, "--phase"],
            name,
            database_url=url,
            storage=work,
            eager_tasks=True,
            **arguments,
        )

    say(f"Atendo leaderboard benchmark: {agents:,} agents, a month board, {os.cpu_count()} CPUs")
    harness.ensure_database(url, setting="BENCH_BOARD_DATABASE_URL")
    say("prepare (not timed)")
    prepared = run_phase("prepare", agents=agents)
    say(f"  {prepared['agents']:,} agents with points this month")
    checks(prepared["agents"] >= agents, "fewer agents than asked for")

    say(f"the query alone, {repeats} times each (ms)")
    figures = run_phase(
        "queries", repeats=repeats, viewer_agent=prepared["viewer_agent"], redis_url=redis_url
    )
    means = {}
    for key, label in (
        ("database_anchor", "anchor: index + count (SQL)"),
        ("redis_anchor", "anchor: ZREVRANGE + ZREVRANK"),
        ("board_from_database", "board query, database"),
        ("board_from_redis", "board query, Redis sets"),
    ):
        samples = figures[key]
        means[key] = statistics.fmean(samples)
        say(f"  {label:<32} mean {means[key]:7.2f}  p95 {_percentile(samples, 0.95):7.2f}")
    from_database = means["board_from_database"] / means["database_anchor"]
    from_redis = means["board_from_redis"] / means["redis_anchor"]
    say(
        f"  board from the database: {from_database:.1f}x its anchor; "
        f"from Redis: {from_redis:.1f}x its anchor"
    )
    checks(figures["ranked"] >= agents, "the board ranks fewer agents than were given points")

    say(
        f"the page under load: {CLIENTS} keep-alive clients for {seconds:.0f}s each, gunicorn, "
        "beside the floor of the same stack (anchors, measured first)"
    )
    loads = serve_and_load(url, redis_url, prepared["session"], seconds, LOADED_PAGES)
    for name, (label, _path) in LOADED_PAGES.items():
        figures_of = loads[name]
        say(
            f"  {label:<44} {figures_of['requests']:>7,} requests, "
            f"{figures_of['throughput']:5.0f}/s, {figures_of['errors']} errors, "
            f"p50 {figures_of['p50']:6.1f} ms, p95 {figures_of['p95']:6.1f} ms, "
            f"p99 {figures_of['p99']:6.1f} ms"
        )
        checks(figures_of["errors"] == 0, f"{name}: {figures_of['errors']} requests failed")
        checks(figures_of["requests"] > 0, f"{name}: no request was answered")
    load, floor = loads["board"], loads["signed_in"]
    say(
        f"  ({load['workers']} sync workers) the board's p95 is "
        f"{load['p95'] / floor['p95']:.1f}x the lightest signed-in page's; at {CLIENTS} clients "
        f"a p95 under {P95_GOAL_MS:.0f} ms needs about {CLIENTS / (P95_GOAL_MS / 1000):,.0f} "
        "responses a second"
    )

    per_call = {key: statistics.fmean(figures[key]) / 1000 for key in means}
    summary(
        [
            SummaryRow(
                "anchor: index + count (SQL)",
                repeats,
                per_call["database_anchor"] * repeats,
                1.0,
                None,
            ),
            SummaryRow(
                "anchor: Redis ZREVRANGE + ZREVRANK",
                repeats,
                per_call["redis_anchor"] * repeats,
                1.0,
                None,
            ),
            SummaryRow(
                "board query from the database",
                repeats,
                per_call["board_from_database"] * repeats,
                means["board_from_database"] / means["database_anchor"],
                None,
            ),
            SummaryRow(
                "board query from Redis sets",
                repeats,
                per_call["board_from_redis"] * repeats,
                means["board_from_redis"] / means["redis_anchor"],
                None,
            ),
            *(
                SummaryRow(
                    label,
                    loads[name]["requests"],
                    loads[name]["seconds"],
                    loads[name]["p95"] / floor["p95"],
                    None,
                )
                for name, (label, _path) in LOADED_PAGES.items()
            ),
        ],
        ratio="x anchor",
    )
    return harness.report(
        [
            (
                f"leaderboard page p95 < {P95_GOAL_MS:.0f} ms ({load['p95']:.1f} ms)",
                load["p95"] < P95_GOAL_MS,
            )
        ],
        checks,
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        phase_main(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "{}")
    else:
        raise SystemExit(main())
