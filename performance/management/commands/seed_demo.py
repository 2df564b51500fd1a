from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from performance.demo import (
    DEMO_LOGINS,
    DemoSeedResult,
    demo_logins_present,
    demo_organisation_exists,
    demo_organisation_seed,
)
from performance.models import Agent, Team


class Command(BaseCommand):
    help = (
        "Load a believable demo organisation: three teams, agents, leads, an admin, two feed "
        "sources and months of interactions ingested through the normal ingest service."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but print the demo logins) when an organisation already exists",
        )
        parser.add_argument("--days", type=int, default=90, help="days of history (default: 90)")
        parser.add_argument("--agents", type=int, default=40, help="default: 40")
        parser.add_argument("--seed", type=int, default=0, help="default: 0")

    def handle(self, *args, if_empty: bool, days: int, agents: int, seed: int, **options) -> None:
        if if_empty and demo_organisation_exists():
            teams = Team.objects.aggregate(teams=Count("id"))["teams"]
            self.stdout.write(
                f"An organisation already exists ({teams} teams, {Agent.objects.count()} "
                "agents): not seeding the demo."
            )
            self._print_logins()
            return
        self.stdout.write(
            f"Seeding the demo organisation: {agents} agents, {days} days of interactions..."
        )
        try:
            result = demo_organisation_seed(
                days=days, agents=agents, seed=seed, log=self.stdout.write
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self._print_summary(result)
        self._print_logins()

    def _print_summary(self, result: DemoSeedResult) -> None:
        rows = sum(batch.rows_read for batch in result.batches)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready in {result.seconds:.1f}s: {result.teams} teams, {result.agents} "
                f"agents, interactions {result.start} to {result.end}; {len(result.batches)} "
                f"batches ingested ({rows:,} rows), {len(result.skipped_files)} files already "
                f"ingested; {result.standards} standards, {result.evaluations:,} evaluations."
            )
        )
        for slug, token in result.new_tokens.items():
            self.stdout.write(f"API token for feed source {slug!r} (shown once): {token}")

    def _print_logins(self) -> None:
        if not demo_logins_present():
            self.stdout.write("The demo logins are not set up in this database.")
            return
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.role:<20} {login.username:<8} / {login.password}")
        self.stdout.write("")
