"""Leaderboard totals: each earned entry adds its points to its agent's totals of every
window containing its earned_on, for all standards and for its standard's channel. Kept in
the ledger writer's transaction; rebuilt from the ledger when in doubt."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol

from django.db import connection, transaction
from django.db.models import Sum

from performance.bulk import row_date
from performance.models import ServiceStandard
from rewards import board_cache
from rewards.models import SPENDING_KINDS, PointsEntry, PointsTotal
from rewards.windows import window_starts

TotalKey = tuple[int, str, date, str]  # agent, span, window start, channel ('' for all)
ROWS_PER_STATEMENT = 500


class EarnedEntry(Protocol):
    agent_id: int
    points: int
    kind: str
    earned_on: date
    standard_id: int | None


def totals_expected(rows: Sequence[tuple[int, date, int | None, int]]) -> dict[TotalKey, int]:
    """What (agent, earned_on, standard, points) ledger rows add up to, per total."""
    channels = _standard_channels({standard for _, _, standard, _ in rows if standard})
    return totals_of(rows, channels)


def _standard_channels(standard_ids: Iterable[int]) -> dict[int, str]:
    wanted = set(standard_ids)
    if not wanted:
        return {}
    return dict(ServiceStandard.objects.filter(pk__in=wanted).values_list("pk", "channel"))


def totals_of(
    rows: Iterable[tuple[int, date, int | None, int]], channels: dict[int, str]
) -> dict[TotalKey, int]:
    """(agent, earned_on, standard, points) rows -> the totals they add to."""
    totals: dict[TotalKey, int] = defaultdict(int)
    for agent_id, earned_on, standard_id, points in rows:
        channel = channels.get(standard_id, "") if standard_id else ""
        for span, start in window_starts(earned_on).items():
            totals[(agent_id, span.value, start, "")] += points
            if channel:
                totals[(agent_id, span.value, start, channel)] += points
    return totals


def upsert_totals(totals: dict[TotalKey, int], *, connection=connection) -> None:
    table = connection.ops.quote_name(PointsTotal._meta.db_table)
    items = [(key, points) for key, points in sorted(totals.items()) if points]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and items:
            # One statement of five arrays: no per-value placeholders to convert.
            columns = list(zip(*((*key, points) for key, points in items), strict=True))
            cursor.execute(
                f"INSERT INTO {table} (agent_id, span, starts_on, channel, points) "
                f"SELECT * FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::text[], "
                f"%s::integer[]) ON CONFLICT (span, starts_on, channel, agent_id) "
                f"DO UPDATE SET points = {table}.points + excluded.points",
                [list(column) for column in columns],
            )
            return
        for first in range(0, len(items), ROWS_PER_STATEMENT):
            chunk = items[first : first + ROWS_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (agent_id, span, starts_on, channel, points) "
                f"VALUES {values} ON CONFLICT (span, starts_on, channel, agent_id) "
                f"DO UPDATE SET points = {table}.points + excluded.points",
                [
                    value
                    for (agent_id, span, start, channel), points in chunk
                    for value in (agent_id, span, start, channel, points)
                ],
            )


def totals_add(entries: Sequence[EarnedEntry]) -> dict[TotalKey, int]:
    """Add earned entries to their totals, in the caller's transaction (the ledger writer's,
    under the agents' locks). Returns what it added, for the sorted sets."""
    earned = [entry for entry in entries if entry.kind not in SPENDING_KINDS]
    channels = _standard_channels(e.standard_id for e in earned if e.standard_id)
    totals = totals_of(
        ((e.agent_id, e.earned_on, e.standard_id, e.points) for e in earned), channels
    )
    upsert_totals(totals)
    board_cache.totals_moved_on_commit(totals)
    return totals


def totals_add_selected(earned: str, params: Sequence) -> None:
    """Add the earned entries a SELECT yields (agent_id, earned_on, standard_id, points) to
    their totals, as totals_add does, in SQL: each day's windows (window_starts) a table of
    the days there are, the channel the standard's."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH e (agent_id, earned_on, standard_id, points) AS ({earned}) "
            "SELECT DISTINCT earned_on FROM e",
            params,
        )
        days = [row_date(day) for (day,) in cursor.fetchall()]
        if not days:
            return
        windows = [
            (day, span.value, start) for day in days for span, start in window_starts(day).items()
        ]
        standards = connection.ops.quote_name(ServiceStandard._meta.db_table)
        moved = f"""
            WITH windows (day, span, starts_on) AS (
                VALUES {", ".join(["(%s, %s, %s)"] * len(windows))}
            ),
            earned (agent_id, earned_on, standard_id, points) AS ({earned}),
            moved AS (
                SELECT e.agent_id, w.span, w.starts_on, '' AS channel, SUM(e.points) AS points
                FROM earned e JOIN windows w ON w.day = e.earned_on
                GROUP BY e.agent_id, w.span, w.starts_on
                UNION ALL
                SELECT e.agent_id, w.span, w.starts_on, s.channel, SUM(e.points)
                FROM earned e JOIN windows w ON w.day = e.earned_on
                JOIN {standards} s ON s.id = e.standard_id
                WHERE s.channel <> ''
                GROUP BY e.agent_id, w.span, w.starts_on, s.channel
            )"""
        moved_params = [*(value for window in windows for value in window), *params]
        if board_cache.enabled():
            # The sorted sets move by what moved: read once, upserted as totals_add does.
            cursor.execute(
                f"{moved} SELECT agent_id, span, starts_on, channel, points FROM moved",
                moved_params,
            )
            totals = {
                (agent_id, span, row_date(start), channel): int(points)
                for agent_id, span, start, channel, points in cursor.fetchall()
            }
            upsert_totals(totals)
            board_cache.totals_moved_on_commit(totals)
            return
        table = connection.ops.quote_name(PointsTotal._meta.db_table)
        cursor.execute(
            f"{moved} INSERT INTO {table} (agent_id, span, starts_on, channel, points) "
            "SELECT agent_id, span, starts_on, channel, points FROM moved WHERE points <> 0 "
            "ON CONFLICT (span, starts_on, channel, agent_id) "
            f"DO UPDATE SET points = {table}.points + excluded.points",
            moved_params,
        )


def totals_rebuild() -> int:
    """Every total again from the ledger (the source of truth); returns the rows written.
    Appends wait meanwhile (on PostgreSQL a share lock on the ledger; SQLite has one writer)."""
    grouped = (
        PointsEntry.objects.exclude(kind__in=SPENDING_KINDS)
        .values_list("agent_id", "earned_on", "standard_id")
        .annotate(points=Sum("points"))
        .order_by()
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(PointsEntry._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        totals = totals_expected(list(grouped))
        PointsTotal.objects.all().delete()
        upsert_totals(totals)
        transaction.on_commit(board_cache.forget_all)
    return sum(1 for points in totals.values() if points)
