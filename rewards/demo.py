"""The demo organisation's levels and streak bonuses (idempotent: seeding twice adds nothing)."""

from __future__ import annotations

from performance.models import ServiceStandard
from rewards.models import Level, StreakBonus

DEMO_LEVELS = [
    ("Iniciante", 0),
    ("Bronze", 500),
    ("Prata", 1500),
    ("Ouro", 3000),
    ("Diamante", 6000),
]
# (consecutive periods, points) for every weekly standard.
DEMO_WEEKLY_STREAK_BONUSES = [(4, 50), (8, 120)]


def demo_progress_seed() -> None:
    for name, threshold in DEMO_LEVELS:
        Level.objects.get_or_create(threshold=threshold, defaults={"name": name})
    for standard in ServiceStandard.objects.filter(period="week"):
        for length, points in DEMO_WEEKLY_STREAK_BONUSES:
            StreakBonus.objects.get_or_create(
                standard=standard, length=length, defaults={"points": points}
            )
