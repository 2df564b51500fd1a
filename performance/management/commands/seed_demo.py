from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import translation

from config.composition import DemoOptions, composition
from performance.demo import DEMO_LOGINS, demo_logins_present, demo_organisation_exists
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

    def handle(self, *args, **options) -> None:
        # Commands are an operator's tool and print English, whatever the site's language.
        with translation.override("en"):
            self._seed(**options)

    def _seed(self, *, if_empty: bool, days: int, agents: int, seed: int, **options) -> None:
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
        demo = DemoOptions(
            days=days,
            agents=agents,
            seed=seed,
            log=self.stdout.write,
            success=lambda message: self.stdout.write(self.style.SUCCESS(message)),
        )
        # Every app's step, in order (performance's organisation first): registered in each
        # AppConfig.ready(), so this command names no other app.
        for step in composition.demo_steps:
            try:
                step.run(demo)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        self._print_logins()

    def _print_logins(self) -> None:
        if not demo_logins_present():
            self.stdout.write("The demo logins are not set up in this database.")
            return
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins:"))
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.role:<20} {login.username:<8} / {login.password}")
        self.stdout.write("")
