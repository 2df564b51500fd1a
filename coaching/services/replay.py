"""The coaching rule, replayed: pure functions over one agent's closed periods of one standard.

- A flag opens on the period that makes at least K of the last N *judged* periods missed
  (judged: an evaluation that is met, exceeded or missed). Insufficient data, or no
  evaluation at all, neither counts as missed nor takes a place among the N: an agent on
  leave for a month is judged on the periods they worked, as streaks are. A missed period
  counts even if its quality gate failed (it is missed either way); a met period whose gate
  failed is judged and not missed (the gate's own standard flags the quality).
- An open flag resolves on the period that completes M consecutive periods after its
  opening that earn the standard (performance.selectors.earns: met or exceeded, gate not
  failed); a miss or a failed gate starts the count again, insufficient data is skipped.
- Only periods after a flag closed (`floor`: its closed_through) count towards the next
  one, so the misses behind a closed flag never count again.
- An open flag the rule did not derive (opened by hand, or kept because a session used it
  when a correction removed its evidence) is an `anchor`: while it is open the rule opens
  nothing; it resolves like any other.

K, N and M are those of each period's own standard version. The replay of periods in
order is all there is, so a backlog derived at once gives the flags derived day by day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from performance.models import Evaluation
from performance.selectors import earns

JUDGED_OUTCOMES = frozenset(
    {Evaluation.Outcome.MET, Evaluation.Outcome.EXCEEDED, Evaluation.Outcome.MISSED}
)


@dataclass(frozen=True)
class Judged:
    """A closed period of one agent on one standard, with the rule of its version."""

    start: date
    end: date
    outcome: str
    gate_passed: bool | None
    evaluation_id: int | None
    value: float | None
    target: float
    missed: int  # K
    window: int  # N
    resolve_after: int  # M

    @property
    def is_missed(self) -> bool:
        return self.outcome == Evaluation.Outcome.MISSED


@dataclass
class Derived:
    """A flag the replay derives: open (resolved_on None) or resolved on a period."""

    opened_on: date
    evidence: tuple[Judged, ...] = ()
    resolved_on: date | None = None
    anchored: bool = False  # the anchor passed in, not a flag of the rule's own

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None


@dataclass
class _Replay:
    flags: list[Derived] = field(default_factory=list)
    window: list[Judged] = field(default_factory=list)
    open: Derived | None = None
    earned: int = 0

    def close(self, on: date) -> None:
        assert self.open is not None
        self.open.resolved_on = on
        self.flags.append(self.open)
        self.open, self.earned = None, 0
        self.window.clear()

    def step(self, period: Judged) -> None:
        if self.open is not None:
            if period.start <= self.open.opened_on:
                return  # before an anchor's opening: covered by it
            earned = earns(period.outcome, period.gate_passed)
            if earned is True:
                self.earned += 1
            elif earned is False:
                self.earned = 0
            if self.earned >= period.resolve_after:
                self.close(period.start)
            return
        if period.outcome not in JUDGED_OUTCOMES:
            return
        self.window.append(period)
        misses = tuple(judged for judged in self.window[-period.window :] if judged.is_missed)
        if len(misses) >= period.missed:
            self.open, self.earned = Derived(opened_on=period.start, evidence=misses), 0
            self.window.clear()


def replay(
    periods: Iterable[Judged], *, floor: date | None = None, anchor: date | None = None
) -> list[Derived]:
    """The flags the closed `periods` (any order) imply after `floor`, oldest first; at most
    the last is open. `anchor` is the opening period of an open flag the rule did not derive:
    it comes back first (anchored=True), resolved or not."""
    state = _Replay()
    if anchor is not None:
        state.open = Derived(opened_on=anchor, anchored=True)
    for period in sorted(periods, key=lambda judged: judged.start):
        if floor is None or period.start > floor:
            state.step(period)
    if state.open is not None:
        state.flags.append(state.open)
    return state.flags
