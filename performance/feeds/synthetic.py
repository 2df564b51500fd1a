"""Synthetic KPI feeds: believable contact-center interactions, fast and deterministic.

Used by `generate_feed`, the demo seed and the ingest benchmark (1,000,000 rows), so the
row loop avoids per-row datetime objects and random.gauss: timestamps are assembled from
precomputed string tables, normal draws come from a quantile table and discrete draws use
bisect on cumulative weights. Rows stream to the file: memory does not grow with `rows`.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import NormalDist
from typing import IO, Any
from zoneinfo import ZoneInfo

from performance.feeds.schema import CANONICAL_FIELDS

DEFAULT_CHANNELS = ("phone", "email", "chat", "social")
FORMATS = ("csv", "jsonl")
# Every canonical field but ended_at (handle_seconds carries the time), in schema order: the
# generator builds each row's values in this order.
# Telephony and helpdesk exports carry neither an end time nor mystery-shopper scores.
COLUMNS = tuple(name for name in CANONICAL_FIELDS if name not in ("ended_at", "mystery_score"))
# Keeps a draw of exactly 1.0 inside the last working hour.
LAST_POINT = 1.0 - 1e-9
ABSENCE_SHARE = 0.03

# Normal draws come from a table of equally likely quantiles: a lookup costs a fraction
# of random.gauss, and 4096 strata are far finer than whole seconds need.
TABLE_SIZE = 4096
NORMAL_TABLE = tuple(NormalDist().inv_cdf((n + 0.5) / TABLE_SIZE) for n in range(TABLE_SIZE))
# Upper bounds of the latent satisfaction for csat 1, 2, 3 and 4 (5 above).
CSAT_THRESHOLDS = (-1.2, -0.5, 0.2, 1.0)

# Contacts per local hour of the day (0-23) and per weekday (Monday first).
HOURLY_VOLUME = (0, 0, 0, 0, 0, 0, 0, 2, 6, 9, 10, 10, 8, 8, 9, 9, 8, 7, 5, 3, 2, 1, 0, 0)
WEEKDAY_VOLUME = (1.1, 1.05, 1.0, 1.0, 0.95, 0.45, 0.3)

# Survey and QA coverage among answered contacts (nested: the longer forms are rarer).
CSAT_SHARE = 0.25
NPS_SHARE = 0.15
CES_SHARE = 0.10
QA_SHARE = 0.03
# About 15% of contacts are a repeat contact on an open case.
REPEAT_SHARE = 0.10
FOLLOW_UP_SHARE = 0.08
OPEN_CASES_KEPT = 2000


@dataclass(frozen=True, slots=True)
class ChannelProfile:
    share: float
    handle_median: float
    handle_sigma: float
    first_response_median: float | None
    first_response_sigma: float
    wait_median: float | None
    wait_sigma: float
    abandon_rate: float
    transfer_rate: float
    escalation_rate: float
    resolve_rate: float
    answered_on_pickup: bool = False


CHANNEL_PROFILES = {
    # Phone: ~6 min handle time; the first response is the pickup after queueing (ASA).
    "phone": ChannelProfile(
        share=0.40,
        handle_median=330,
        handle_sigma=0.5,
        first_response_median=None,
        first_response_sigma=0,
        wait_median=22,
        wait_sigma=0.9,
        abandon_rate=0.055,
        transfer_rate=0.08,
        escalation_rate=0.04,
        resolve_rate=0.92,
        answered_on_pickup=True,
    ),
    # Chat: first response in seconds, ~10 min handle time (agents run parallel chats).
    "chat": ChannelProfile(
        share=0.25,
        handle_median=560,
        handle_sigma=0.45,
        first_response_median=50,
        first_response_sigma=0.35,
        wait_median=15,
        wait_sigma=0.8,
        abandon_rate=0.035,
        transfer_rate=0.06,
        escalation_rate=0.03,
        resolve_rate=0.90,
    ),
    # E-mail: first response in hours, short handle time.
    "email": ChannelProfile(
        share=0.25,
        handle_median=210,
        handle_sigma=0.6,
        first_response_median=3 * 3600,
        first_response_sigma=0.55,
        wait_median=None,
        wait_sigma=0,
        abandon_rate=0,
        transfer_rate=0.03,
        escalation_rate=0.05,
        resolve_rate=0.85,
    ),
    # Social: between chat and e-mail (~25 min to first response).
    "social": ChannelProfile(
        share=0.10,
        handle_median=300,
        handle_sigma=0.55,
        first_response_median=25 * 60,
        first_response_sigma=0.8,
        wait_median=None,
        wait_sigma=0,
        abandon_rate=0,
        transfer_rate=0.04,
        escalation_rate=0.04,
        resolve_rate=0.86,
    ),
    "messaging": ChannelProfile(
        share=0.10,
        handle_median=420,
        handle_sigma=0.5,
        first_response_median=120,
        first_response_sigma=0.6,
        wait_median=None,
        wait_sigma=0,
        abandon_rate=0,
        transfer_rate=0.05,
        escalation_rate=0.03,
        resolve_rate=0.88,
    ),
}
# Channels configured beyond the known ones behave like messaging.
FALLBACK_PROFILE = CHANNEL_PROFILES["messaging"]


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """One agent's consistent strengths: the same agents do better day after day."""

    key: str
    volume: float
    channel_cumulative: tuple[float, ...]
    handle_factor: float
    first_response_factor: float
    resolve_bonus: float
    transfer_factor: float
    survey_shift: float
    qa_mean: float
    days_off: frozenset[int]
    absences: frozenset[int]


def write_synthetic_feed(
    out: IO[str],
    *,
    rows: int,
    agents: int,
    days: int,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    start: date,
    seed: int = 0,
    agent_prefix: str = "agent-",
    format: str = "csv",
    id_prefix: str = "",
    time_zone: str = "UTC",
) -> int:
    """Write `rows` interactions over `days` days from `start`; return the rows written.

    Timestamps are UTC with `Z`; working hours follow `time_zone` (the agents' local day).
    The same arguments always give the same file.
    """
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if agents < 1 or days < 1:
        raise ValueError("agents and days must be >= 1")
    if not channels:
        raise ValueError("at least one channel is needed")
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    generator = _FeedGenerator(
        rows=rows,
        agents=agents,
        days=days,
        channels=tuple(channels),
        start=start,
        seed=seed,
        agent_prefix=agent_prefix,
        id_prefix=id_prefix,
        zone=ZoneInfo(time_zone),
        for_csv=format == "csv",
    )
    if format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(generator.rows())
    else:
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        out.writelines(
            encode({k: v for k, v in zip(COLUMNS, row, strict=True) if v is not None}) + "\n"
            for row in generator.rows()
        )
    return generator.rows_written


def synthetic_agent_key(agent_prefix: str, number: int) -> str:
    """The agent key of agent `number` in a synthetic feed."""
    return f"{agent_prefix}{number:05d}"


def rows_per_day(rows: int, start: date, days: int) -> list[int]:
    """Split `rows` over the days by weekday volume; the counts add up to `rows`."""
    weights = [WEEKDAY_VOLUME[(start + timedelta(days=n)).weekday()] for n in range(days)]
    total = sum(weights)
    exact = [rows * weight / total for weight in weights]
    counts = [int(value) for value in exact]
    by_remainder = sorted(range(days), key=lambda n: (counts[n] - exact[n], n))
    for n in by_remainder[: rows - sum(counts)]:
        counts[n] += 1
    return counts


class _FeedGenerator:
    def __init__(
        self,
        *,
        rows: int,
        agents: int,
        days: int,
        channels: tuple[str, ...],
        start: date,
        seed: int,
        agent_prefix: str,
        id_prefix: str,
        zone: ZoneInfo,
        for_csv: bool,
    ) -> None:
        # Files of other channels or id prefixes get their own row stream from one seed.
        self.rng = random.Random(f"{seed}|{id_prefix}|{','.join(channels)}")
        self.total_rows = rows
        self.days = days
        self.start = start
        self.zone = zone
        self.id_prefix = id_prefix
        self.channels = channels
        self.profiles = [CHANNEL_PROFILES.get(code, FALLBACK_PROFILE) for code in channels]
        self.agents = [
            self._agent_profile(seed, number, synthetic_agent_key(agent_prefix, number))
            for number in range(agents)
        ]
        self.true, self.false = ("true", "false") if for_csv else (True, False)
        self.rows_written = 0
        self._build_time_tables()

    def _agent_profile(self, seed: int, number: int, key: str) -> AgentProfile:
        # Traits depend on (seed, number) only, so one person keeps the same strengths,
        # rota and absences in the feeds of every source generated with the same seed.
        rng = random.Random(f"{seed}|agent|{number}")
        gauss = rng.gauss
        quality = gauss(0, 1)
        speed = 0.35 * quality + gauss(0, 0.94)
        volume = math.exp(0.2 * speed + gauss(0, 0.1))
        handle_factor = math.exp(-0.16 * speed + gauss(0, 0.05))
        if rng.random() < 0.6:
            days_off = frozenset({5, 6})
        else:
            first = rng.randrange(7)
            days_off = frozenset({first, (first + 1) % 7})
        absences = frozenset(day for day in range(self.days) if rng.random() < ABSENCE_SHARE)
        preferences = [p.share * math.exp(gauss(0, 0.6)) for p in self.profiles]
        return AgentProfile(
            key=key,
            volume=volume,
            channel_cumulative=tuple(itertools.accumulate(preferences)),
            handle_factor=handle_factor,
            first_response_factor=math.exp(-0.25 * speed),
            resolve_bonus=0.06 * quality,
            transfer_factor=math.exp(-0.3 * quality),
            survey_shift=0.45 * quality,
            qa_mean=84 + 5 * quality,
            days_off=days_off,
            absences=absences,
        )

    def _build_time_tables(self) -> None:
        cumulative = [0.0, *itertools.accumulate(HOURLY_VOLUME)]
        self.hour_cumulative = [value / cumulative[-1] for value in cumulative]
        first_day = datetime.combine(self.start, time(), tzinfo=UTC) - timedelta(days=1)
        self.first_day_number = int(first_day.timestamp()) // 86400
        self.day_prefixes = [
            f"{first_day + timedelta(days=n):%Y-%m-%d}T" for n in range(self.days + 3)
        ]
        self.hour_texts = [f"{hour:02d}:" for hour in range(24)]
        self.minute_second_texts = [f"{m:02d}:{s:02d}Z" for m in range(60) for s in range(60)]

    def _local_day_start(self, day: date) -> int:
        """Epoch seconds of local midnight, using the offset at noon (DST changes at night)."""
        noon = datetime.combine(day, time(12), tzinfo=self.zone)
        offset = noon.utcoffset() or timedelta()
        midnight_utc = datetime.combine(day, time(), tzinfo=UTC)
        return int((midnight_utc - offset).timestamp())

    def _agents_on(self, day_index: int) -> tuple[list[AgentProfile], list[float]]:
        weekday = (self.start + timedelta(days=day_index)).weekday()
        working = [
            agent
            for agent in self.agents
            if weekday not in agent.days_off and day_index not in agent.absences
        ] or self.agents
        return working, list(itertools.accumulate(agent.volume for agent in working))

    def rows(self) -> Iterator[tuple[Any, ...]]:
        # The hot loop: everything it touches is bound to a local name first.
        random_ = self.rng.random
        true, false = self.true, self.false
        hour_cumulative = self.hour_cumulative
        day_prefixes = self.day_prefixes
        hour_texts = self.hour_texts
        minute_second_texts = self.minute_second_texts
        first_day_number = self.first_day_number
        id_prefix = self.id_prefix
        normal = NORMAL_TABLE
        table_size = TABLE_SIZE
        channel_params = [
            (
                code,
                profile.abandon_rate,
                profile.transfer_rate,
                profile.escalation_rate,
                profile.resolve_rate,
                profile.answered_on_pickup,
                _lognormal_table(profile.handle_median, profile.handle_sigma),
                _lognormal_table(profile.first_response_median, profile.first_response_sigma),
                _lognormal_table(profile.wait_median, profile.wait_sigma),
                false if profile.abandon_rate else None,
            )
            for code, profile in zip(self.channels, self.profiles, strict=True)
        ]
        last_channel = len(channel_params) - 1
        open_cases: deque[str] = deque(maxlen=OPEN_CASES_KEPT)
        case_number = 0
        row_number = 0

        for day_index, count in enumerate(rows_per_day(self.total_rows, self.start, self.days)):
            if not count:
                continue
            day = self.start + timedelta(days=day_index)
            day_start = self._local_day_start(day)
            working, agent_cumulative = self._agents_on(day_index)
            agent_total = agent_cumulative[-1]
            last_agent = len(working) - 1
            # Ascending uniform order statistics, one draw each: rows come out in time order.
            position = 0.0
            for remaining in range(count, 0, -1):
                position = 1.0 - (1.0 - position) * random_() ** (1.0 / remaining)
                point = position if position < LAST_POINT else LAST_POINT
                hour = bisect_right(hour_cumulative, point) - 1
                low = hour_cumulative[hour]
                second_of_day = hour * 3600 + int(
                    (point - low) / (hour_cumulative[hour + 1] - low) * 3599.999
                )
                day_number, second = divmod(day_start + second_of_day, 86400)
                started_at = (
                    day_prefixes[day_number - first_day_number]
                    + hour_texts[second // 3600]
                    + minute_second_texts[second % 3600]
                )

                agent_index = bisect_right(agent_cumulative, random_() * agent_total)
                agent = working[agent_index if agent_index < last_agent else last_agent]
                preferences = agent.channel_cumulative
                channel_index = bisect_right(preferences, random_() * preferences[-1])
                if channel_index > last_channel:
                    channel_index = last_channel
                (
                    channel,
                    abandon_rate,
                    transfer_rate,
                    escalation_rate,
                    resolve_rate,
                    answered_on_pickup,
                    handle_table,
                    response_table,
                    wait_table,
                    not_abandoned,
                ) = channel_params[channel_index]
                row_number += 1
                external_id = f"{id_prefix}{row_number:09d}"

                wait = int(wait_table[int(random_() * table_size)]) if wait_table else None
                if abandon_rate and random_() < abandon_rate:
                    # Callers who hang up waited longer than those who got through.
                    if wait is not None:
                        wait = int(wait * 1.8) + 5
                    yield (
                        external_id,
                        agent.key,
                        channel,
                        started_at,
                        None,
                        None,
                        wait,
                        None,
                        None,
                        None,
                        None,
                        None,
                        true,
                        None,
                        None,
                        None,
                        None,
                    )
                    continue

                handle = int(handle_table[int(random_() * table_size)] * agent.handle_factor)
                if answered_on_pickup:
                    first_response = (wait or 0) + 2 + int(random_() * 7)
                elif response_table:
                    first_response = int(
                        response_table[int(random_() * table_size)] * agent.first_response_factor
                    )
                else:
                    first_response = None

                transferred = random_() < transfer_rate * agent.transfer_factor
                escalated = random_() < escalation_rate
                resolve_rate += agent.resolve_bonus
                if transferred or escalated:
                    resolve_rate -= 0.35
                if open_cases and random_() < REPEAT_SHARE:
                    case_id = open_cases.popleft()
                    repeat = True
                    resolved = random_() < resolve_rate
                else:
                    case_number += 1
                    case_id = f"{id_prefix}C{case_number:08d}"
                    repeat = False
                    if random_() < FOLLOW_UP_SHARE:
                        resolved = False
                        open_cases.append(case_id)
                    else:
                        resolved = random_() < resolve_rate
                first_contact = resolved and not repeat and not transferred

                csat = nps = ces = None
                survey = random_()
                if survey < CSAT_SHARE:
                    mood = (
                        1.2
                        + agent.survey_shift
                        + (0.7 if resolved else -0.9)
                        - (0.5 if transferred else 0.0)
                        + normal[int(random_() * table_size)]
                    )
                    csat = bisect_right(CSAT_THRESHOLDS, mood) + 1
                    if survey < NPS_SHARE:
                        noise = normal[int(random_() * table_size)]
                        nps = min(10, max(0, round(6.3 + 1.6 * mood + 0.8 * noise)))
                        if survey < CES_SHARE:
                            noise = normal[int(random_() * table_size)]
                            ces = min(7, max(1, round(3.2 - 0.9 * mood + 0.6 * noise)))
                qa_score = None
                if random_() < QA_SHARE:
                    noise = normal[int(random_() * table_size)]
                    qa_score = round(min(100.0, max(0.0, agent.qa_mean + 7.0 * noise)), 1)

                yield (
                    external_id,
                    agent.key,
                    channel,
                    started_at,
                    handle,
                    first_response,
                    wait,
                    case_id,
                    true if resolved else false,
                    true if first_contact else false,
                    true if transferred else false,
                    true if escalated else false,
                    not_abandoned,
                    csat,
                    nps,
                    ces,
                    qa_score,
                )
        self.rows_written = row_number


def _lognormal_table(median: float | None, sigma: float) -> tuple[float, ...]:
    """Equally likely values of a log-normal distribution (empty when the channel has none)."""
    if median is None:
        return ()
    return tuple(median * math.exp(sigma * z) for z in NORMAL_TABLE)
