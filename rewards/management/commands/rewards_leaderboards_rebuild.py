from __future__ import annotations

from django.core.management.base import BaseCommand

from rewards.services.totals import totals_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild every leaderboard total from the points ledger (the source of truth). "
        "Safe at any time: appends to the ledger wait until it is done."
    )

    def handle(self, *args, **options) -> None:
        rows = totals_rebuild()
        self.stdout.write(f"{rows} leaderboard totals rebuilt from the ledger")
