"""Streaks: consecutive closed periods of a standard that earn it (met or exceeded, gate not
failed). A miss or a failed gate breaks a streak; insufficient data (or no evaluation)
neither breaks nor extends it (performance.selectors.earns judges each period). Pure
functions over one agent's periods of one standard."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Streak:
    """A run of earning periods: their starts, in order."""

    periods: tuple[date, ...]
    ongoing: bool  # not broken since: the agent's current streak

    @property
    def start(self) -> date:
        return self.periods[0]

    @property
    def length(self) -> int:
        return len(self.periods)


def streaks_of(judged: Iterable[tuple[date, bool | None]]) -> list[Streak]:
    """The streaks in (period start, earns) pairs of closed periods, in any order."""
    runs: list[Streak] = []
    current: list[date] = []
    for start, earned in sorted(judged):
        if earned is True:
            current.append(start)
        elif earned is False and current:
            runs.append(Streak(tuple(current), ongoing=False))
            current = []
    if current:
        runs.append(Streak(tuple(current), ongoing=True))
    return runs


@dataclass(frozen=True)
class StreakReward:
    reference: str
    earned_on: date  # the period that reached the length
    length: int
    points: int
    streak_start: date


def streak_rewards(
    standard_id: int, streaks: Sequence[Streak], bonuses: Sequence[tuple[int, int]]
) -> list[StreakReward]:
    """The bonus each streak earns: (length, points) once per streak per length reached."""
    return [
        StreakReward(
            reference=f"streak:{standard_id}:{streak.start.isoformat()}:{length}",
            earned_on=streak.periods[length - 1],
            length=length,
            points=points,
            streak_start=streak.start,
        )
        for streak in streaks
        for length, points in bonuses
        if streak.length >= length
    ]


def current_and_best(streaks: Sequence[Streak]) -> tuple[int, int]:
    current = streaks[-1].length if streaks and streaks[-1].ongoing else 0
    return current, max((streak.length for streak in streaks), default=0)
