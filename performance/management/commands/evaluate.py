from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from performance.periods import Period, PeriodKeyError, parse_period_key
from performance.services.evaluation import evaluate_periods


def _period(value: str) -> Period:
    try:
        return parse_period_key(value)
    except PeriodKeyError as error:
        raise CommandError(error.message) from None


class Command(BaseCommand):
    help = (
        "(Re)evaluate every agent against every service standard for the periods in a range "
        "(days in 2000-2099, at most STANDARD_RESCORE_MAX_DAYS days per run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            help="first day, or the first day of a week (2026-W44) or month (2026-10) "
            "(default: 35 days before --until)",
        )
        parser.add_argument(
            "--until",
            help="last day, or the last day of a week or month (default: yesterday)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, since: str | None, until: str | None, **options) -> None:
        last = (
            _period(until).end - timedelta(days=1)
            if until
            else timezone.localdate() - timedelta(days=1)
        )
        first = _period(since).start if since else last - timedelta(days=35)
        if first > last:
            raise CommandError(f"--since {first} is after --until {last}")
        # One run scores at most as many days as a standard's save may re-score; a longer
        # history is scored in pieces, each its own transaction.
        limit = settings.STANDARD_RESCORE_MAX_DAYS
        days = (last - first).days + 1
        if days > limit:
            piece_end = first + timedelta(days=limit - 1)
            raise CommandError(
                f"{first} to {last} is {days} days; one run evaluates at most {limit} days "
                "(STANDARD_RESCORE_MAX_DAYS). Run it in pieces, e.g. "
                f"--since {first} --until {piece_end}, then --since "
                f"{piece_end + timedelta(days=1)} --until ..."
            )
        run = evaluate_periods(since=first, until=last)
        report = {
            "since": first.isoformat(),
            "until": last.isoformat(),
            "evaluations": run.total,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "deleted": run.deleted,
        }
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(
                f"Evaluated {first} to {last}: {run.total} evaluations "
                f"({run.created} created, {run.updated} updated, {run.unchanged} unchanged, "
                f"{run.deleted} deleted)"
            )
