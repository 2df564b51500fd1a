"""Leaderboard totals in Redis sorted sets, when LEADERBOARD_REDIS_URL is set (by default the
cache's Redis, CACHE_URL). The database stays the source of truth: a set is built from
`PointsTotal` on the first read, moved by each committed ledger write, and thrown away when
a write races its build (a per-window generation counter) or when it expires, so it is never
wrong for longer than one read after a lost message. Without Redis the database serves the
boards (rewards.selectors.leaderboards).

A member is an agent id stored as MEMBER_BASE - id, zero-padded: equal scores then come out
of ZREVRANGE in ascending agent id, the order the database query uses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

PREFIX = "atendo:board"
MEMBER_BASE = 10**12
BUILD_CHUNK = 2_000
# A built set lives this long unread-or-not: the bound on how long a lost update can last.
TTL_SECONDS = 15 * 60

# Moves the members of existing sets only (a missing set is built from the database on its
# next read), drops a member whose total comes back to zero, and bumps the generations.
_APPLY = """
local sets = tonumber(ARGV[1])
for i = 1, sets do
  local key = KEYS[i]
  if redis.call('EXISTS', key) == 1 then
    local score = redis.call('ZINCRBY', key, ARGV[2 * i + 1], ARGV[2 * i])
    if tonumber(score) == 0 then redis.call('ZREM', key, ARGV[2 * i]) end
  end
end
for i = sets + 1, #KEYS do redis.call('INCR', KEYS[i]) end
return sets
"""


@cache
def _client():
    import redis

    url = settings.LEADERBOARD_REDIS_URL
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) if url else None


def enabled() -> bool:
    return bool(settings.LEADERBOARD_REDIS_URL)


def member(agent_id: int) -> str:
    return f"{MEMBER_BASE - agent_id:013d}"


def agent_of(raw: bytes | str) -> int:
    return MEMBER_BASE - int(raw)


def set_key(span: str, start: date, channel: str, team_id: int | None) -> str:
    return f"{PREFIX}:{span}:{start.isoformat()}:{channel or '*'}:{team_id or '*'}"


def generation_key(span: str, start: date, channel: str) -> str:
    return f"{PREFIX}:gen:{span}:{start.isoformat()}:{channel or '*'}"


def totals_moved_on_commit(added: dict[tuple[int, str, date, str], int]) -> None:
    """After the ledger writer's transaction commits, move the sets its totals touch."""
    if not enabled() or not added:
        return
    from performance.models import Agent

    teams = dict(
        Agent.objects.filter(pk__in={key[0] for key in added}, active=True).values_list(
            "pk", "team_id"
        )
    )
    transaction.on_commit(lambda: _apply(added, teams))


def _apply(added: dict[tuple[int, str, date, str], int], teams: dict[int, int]) -> None:
    keys: list[str] = []
    args: list[str] = []
    generations: set[str] = set()
    for (agent_id, span, start, channel), points in added.items():
        generations.add(generation_key(span, start, channel))
        if agent_id not in teams or not points:
            continue  # an inactive agent is on no board
        for team_id in (None, teams[agent_id]):
            keys.append(set_key(span, start, channel, team_id))
            args += [member(agent_id), str(points)]
    try:
        _client().eval(_APPLY, len(keys) + len(generations), *keys, *generations, len(keys), *args)
    except Exception:  # Redis down: the sets are rebuilt from the database once they expire
        logger.exception("leaderboard sets not moved; they will be rebuilt")
        _forget(generations)


def _forget(generations: Iterable[str]) -> None:
    try:
        client = _client()
        for generation in generations:
            _, span, start, channel = generation.rsplit(":", 3)
            for key in client.scan_iter(f"{PREFIX}:{span}:{start}:{channel}:*"):
                client.delete(key)
    except Exception:
        logger.exception("leaderboard sets not dropped")


def forget_all() -> None:
    """Drop every set (after the totals are rebuilt from the ledger)."""
    if not enabled():
        return
    client = _client()
    for key in client.scan_iter(f"{PREFIX}:*"):
        client.delete(key)


def _ensure(key: str, generation: str, load) -> None:
    """Build the set from the database unless it exists; a write that commits meanwhile
    bumps the generation, and the build is thrown away (the next read builds again)."""
    client = _client()
    if client.exists(key):
        return
    before = client.get(generation)
    rows = load()
    temporary = f"{key}:building"
    pipe = client.pipeline()
    pipe.delete(temporary)
    for first in range(0, len(rows), BUILD_CHUNK):
        pipe.zadd(temporary, {member(a): p for a, p in rows[first : first + BUILD_CHUNK]})
    if rows:
        pipe.rename(temporary, key)
        pipe.expire(key, TTL_SECONDS)
    pipe.execute()
    if client.get(generation) != before:
        client.delete(key)


@dataclass(frozen=True)
class Ranking:
    ranked: int
    page: list[tuple[int, int]]  # (agent id, points) in board order
    first_rank: int  # the rank of the page's first row
    own_points: int | None  # None: no viewer asked for
    own_rank: int | None
    gap_to_next: int | None
    above: list[tuple[int, int, int]]  # (agent id, points, rank) just above the viewer
    below: list[tuple[int, int, int]]


def ranking(
    *,
    span: str,
    start: date,
    channel: str,
    team_id: int | None,
    load,
    offset: int,
    limit: int,
    viewer_agent_id: int | None,
    neighbours: int,
) -> Ranking:
    """A page of a board and the viewer's standing, from the set (built first if missing)."""
    key = set_key(span, start, channel, team_id)
    _ensure(key, generation_key(span, start, channel), load)
    client = _client()
    pipe = client.pipeline()
    pipe.zcard(key)
    pipe.zrevrange(key, offset, offset + limit - 1, withscores=True)
    if viewer_agent_id is not None:
        pipe.zscore(key, member(viewer_agent_id))
        pipe.zrevrank(key, member(viewer_agent_id))
    ranked, page, *own = pipe.execute()
    rows = [(agent_of(raw), int(score)) for raw, score in page]

    # Three round trips in all: the page, then the viewer's surroundings, then every rank
    # needed (a shared rank is 1 + the members with a higher score).
    scores: set[int] = {rows[0][1]} if rows and offset else set()
    mine, gap = 0, None
    above_rows: list[tuple[int, int]] = []
    below_rows: list[tuple[int, int]] = []
    if viewer_agent_id is not None:
        score, index = own
        mine = int(score) if score is not None else 0
        scores.add(mine)
        off_page = index is not None and not offset <= index < offset + limit
        pipe = client.pipeline()
        pipe.zrangebyscore(key, f"({mine}", "+inf", start=0, num=1, withscores=True)
        if neighbours and off_page:
            pipe.zrevrange(key, max(index - neighbours, 0), index + neighbours, withscores=True)
        elif neighbours and index is None:
            pipe.zrangebyscore(key, "(0", "+inf", start=0, num=neighbours, withscores=True)
            pipe.zrevrangebyscore(key, "(0", "-inf", start=0, num=neighbours, withscores=True)
        higher, *found = pipe.execute()
        gap = int(higher[0][1]) - mine if higher else None
        if neighbours and off_page:
            first = max(index - neighbours, 0)
            for position, (raw, points) in enumerate(found[0], start=first):
                if position != index:
                    side = above_rows if position < index else below_rows
                    side.append((agent_of(raw), int(points)))
        elif found:
            lowest_above, highest_below = found
            above_rows = [(agent_of(raw), int(points)) for raw, points in reversed(lowest_above)]
            below_rows = [(agent_of(raw), int(points)) for raw, points in highest_below]
        scores.update(points for _, points in above_rows + below_rows)
    ordered = sorted(scores)
    pipe = client.pipeline()
    for points in ordered:
        pipe.zcount(key, f"({points}", "+inf")
    rank = {points: count + 1 for points, count in zip(ordered, pipe.execute(), strict=True)}
    first_rank = rank[rows[0][1]] if rows and offset else 1
    if viewer_agent_id is None:
        return Ranking(ranked, rows, first_rank, None, None, None, [], [])
    above = [(agent_id, points, rank[points]) for agent_id, points in above_rows]
    below = [(agent_id, points, rank[points]) for agent_id, points in below_rows]
    return Ranking(ranked, rows, first_rank, mine, rank[mine], gap, above, below)
