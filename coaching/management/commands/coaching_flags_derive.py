from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coaching.services.flags import FlagScope, flags_derive
from performance.models import Agent


class Command(BaseCommand):
    help = (
        "Derive the coaching flags from the closed periods of every standard: open the flags "
        "the coaching rule implies, resolve those earned back, withdraw those whose evidence "
        "was corrected away. Running it again writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agent", type=int, help="only this agent (id)")

    def handle(self, *args, agent: int | None, **options) -> None:
        if agent is not None and not Agent.objects.filter(pk=agent).exists():
            raise CommandError(f"no agent with id {agent}")
        result = flags_derive(scope=FlagScope(agent_ids=(agent,) if agent is not None else None))
        self.stdout.write(
            f"{result.agents} agents: {result.opened} flags opened, {result.resolved} resolved, "
            f"{result.withdrawn} withdrawn, {result.corrected} kept with corrected evidence, "
            f"{result.refreshed} with refreshed evidence"
        )
