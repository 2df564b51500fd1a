from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from performance.models import Agent
from rewards.selectors import balance_mismatches, total_mismatches
from rewards.services.reconcile import ReconcileScope, reconcile


class Command(BaseCommand):
    help = (
        "Bring the points ledger in line with the current evaluations of closed periods "
        "(appending corrections). With --check, write nothing: print each discrepancy and "
        "each balance that differs from its ledger, and exit 1 if there is any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agent", type=int, help="only this agent (id)")
        parser.add_argument("--check", action="store_true", help="write nothing; report")

    def handle(self, *args, agent: int | None, check: bool, **options) -> None:
        if agent is not None and not Agent.objects.filter(pk=agent).exists():
            raise CommandError(f"no agent with id {agent}")
        agent_ids = (agent,) if agent is not None else None
        result = reconcile(ReconcileScope(agent_ids=agent_ids), check=check)
        if not check:
            self.stdout.write(
                f"{result.agents} agents reconciled: {result.entries} entries appended "
                f"({result.points:+d} points)"
            )
            return
        mismatches = balance_mismatches(agent_ids)
        stale_totals = total_mismatches(agent_ids)
        for item in result.discrepancies:
            self.stdout.write(
                f"agent {item.agent_id} {item.reference}: ledger {item.ledger}, "
                f"expected {item.expected}"
            )
        for item in mismatches:
            self.stdout.write(
                f"agent {item.agent_id} balance: lifetime {item.balance.lifetime} / "
                f"spendable {item.balance.spendable}, ledger sums {item.ledger.lifetime} / "
                f"{item.ledger.spendable}"
            )
        for item in stale_totals:
            channel = item.channel or "all"
            self.stdout.write(
                f"agent {item.agent_id} leaderboard total {item.span} {item.starts_on} "
                f"{channel}: {item.kept}, ledger sums {item.ledger}"
            )
        if result.discrepancies or mismatches or stale_totals:
            raise CommandError(
                f"{len(result.discrepancies)} discrepancies, {len(mismatches)} balance "
                f"mismatches, {len(stale_totals)} leaderboard totals off "
                "(rewards_leaderboards_rebuild repairs them)"
            )
        self.stdout.write(
            f"{result.agents} agents checked: ledger, balances and leaderboard totals agree"
        )
