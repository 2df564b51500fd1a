"""A separate process for the test that kills a process between commit and dispatch.

    python -m tests.performance.evaluation_change_child setup|evaluate|catch-up

against the database in DATABASE_URL (the test database on PostgreSQL, a file on SQLite):
`setup` builds a small world (migrating a fresh SQLite file first), `evaluate` scores it and
dies inside the after-commit hook, before the signal is dispatched, and `catch-up` plays the
beat task with a subscriber that records what it is handed, printing JSON.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime

import django

DIED_IN_HOOK = 17
DAY = date(2026, 10, 29)


def setup() -> None:
    from django.core.management import call_command
    from django.db import connection

    from performance.models import ServiceStandard
    from performance.services.standards import standard_save
    from tests.factories import (
        AgentFactory,
        FeedSourceFactory,
        InteractionFactory,
        TeamFactory,
        UserFactory,
    )

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
    team = TeamFactory(name="Lisbon", time_zone="Europe/Lisbon")
    agent = AgentFactory(user=UserFactory(username="alice"), team=team)
    source = FeedSourceFactory(name="Helpdesk", slug="helpdesk", time_zone="UTC")
    InteractionFactory(
        agent=agent, source=source, started_at=datetime(2026, 10, 29, 12, tzinfo=UTC), csat=5
    )
    standard = ServiceStandard(
        name="CSAT", metric="csat", period="day", active_from=date(2026, 1, 1), target=80
    )
    standard_save(standard=standard, rescore=False)


def evaluate() -> None:
    from performance.services.evaluation import evaluate_periods
    from performance.signals import evaluations_changed

    def die(**kwargs: object) -> None:
        os._exit(DIED_IN_HOOK)

    evaluations_changed.send = die  # the after-commit hook sends it: die right there
    evaluate_periods(since=DAY, until=DAY)


def catch_up() -> None:
    from performance.models import ChangeCursor, EvaluationChange
    from performance.services.changes import evaluation_changes_deliver
    from performance.signals import change_subscribers, evaluations_changed

    applied: list[int] = []

    def handler(change: EvaluationChange) -> None:
        applied.append(change.id)

    change_subscribers["test"] = handler
    first = evaluation_changes_deliver()
    # Delivered again, by the beat and by a late signal: nothing is applied twice.
    second = evaluation_changes_deliver()
    for change in EvaluationChange.objects.all():
        evaluations_changed.send(sender=EvaluationChange, change_id=change.id, change=change)
    print(
        json.dumps(
            {
                "applied": applied,
                "delivered": [first, second],
                "subscribers": len(change_subscribers),
                "changes": list(EvaluationChange.objects.values_list("id", flat=True)),
                "cursor": ChangeCursor.objects.get(subscriber="test").last_change_id,
            }
        )
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    {"setup": setup, "evaluate": evaluate, "catch-up": catch_up}[sys.argv[1]]()
