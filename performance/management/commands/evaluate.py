from __future__ import annotations

import json
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from performance.services.evaluation import evaluate_periods


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "(Re)evaluate every agent against every service standard for the periods in a range."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="first day (default: 35 days before --until)")
        parser.add_argument("--until", help="last day (default: yesterday)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, since: str | None, until: str | None, **options) -> None:
        last = _date(until) if until else timezone.localdate() - timedelta(days=1)
        first = _date(since) if since else last - timedelta(days=35)
        if first > last:
            raise CommandError(f"--since {first} is after --until {last}")
        run = evaluate_periods(since=first, until=last)
        report = {
            "since": first.isoformat(),
            "until": last.isoformat(),
            "evaluations": run.total,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
        }
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(
                f"Evaluated {first} to {last}: {run.total} evaluations "
                f"({run.created} created, {run.updated} updated, {run.unchanged} unchanged)"
            )
