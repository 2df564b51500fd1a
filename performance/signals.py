"""What performance publishes for other apps; it never imports them.

An evaluation run that creates or updates rows writes an `EvaluationChange` (its scope: the
standards, the period starts and the agents or feed batch) in the same transaction as the
rows. After commit, `evaluations_changed` is sent with `change_id` and `change`, a small
reference: a month re-scored is one change, not 1.5M ids.

The signal is fast but not durable (the process may die between commit and dispatch), so
apps that derive data from evaluations (rewards, coaching) subscribe by name instead, in
their `AppConfig.ready()`:

    evaluation_changes_subscribe(name="rewards", handler=rewards_apply_evaluation_change)

`performance.services.changes` hands each subscriber every change after its cursor, in
order, inside one transaction with the handler's own writes and the cursor's advance: on
the signal and again from a beat task that catches up whatever the signal missed. A change
is so applied exactly once, however often it is delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.dispatch import Signal

if TYPE_CHECKING:
    from performance.models import EvaluationChange

evaluations_changed = Signal()

EvaluationChangeHandler = Callable[["EvaluationChange"], None]
# Subscriber name (its cursor's key) -> handler; filled in AppConfig.ready().
change_subscribers: dict[str, EvaluationChangeHandler] = {}


def evaluation_changes_subscribe(*, name: str, handler: EvaluationChangeHandler) -> None:
    """Register a durable subscriber; its name keys its cursor, so keep it stable."""
    if change_subscribers.get(name, handler) is not handler:
        raise ValueError(f"another handler is already subscribed as {name!r}")
    change_subscribers[name] = handler
