"""The demo organisation's levels, streak bonuses and leaderboards (idempotent: seeding twice
adds nothing)."""

from __future__ import annotations

from performance.models import ServiceStandard
from rewards.models import Leaderboard, Level, StreakBonus

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


# (slug, name, scope, channel, ranks, window, privacy, on the wall board)
DEMO_BOARDS = [
    ("geral", "Geral", "everyone", "", "agents", "month", "names", True),
    ("minha-equipe", "Minha equipe", "team", "", "agents", "week", "names", False),
    ("equipes", "Equipes", "everyone", "", "teams", "month", "names", True),
    ("telefone", "Telefone", "channel", "phone", "agents", "month", "top", False),
]


def demo_leaderboards_seed() -> None:
    for position, (slug, name, scope, channel, ranks, window, privacy, wall) in enumerate(
        DEMO_BOARDS
    ):
        Leaderboard.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "scope": scope,
                "channel": channel,
                "ranks": ranks,
                "default_window": window,
                "privacy": privacy,
                "on_wallboard": wall,
                "position": position,
                "minimum_agents": 2,
            },
        )
