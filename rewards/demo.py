"""The demo organisation's levels, streak bonuses, leaderboards and store (idempotent: seeding
twice adds nothing)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

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


# (name, description, icon, criterion, N, standard's metric or board slug, repeat, points)
DEMO_BADGES = [
    (
        "Em chamas",
        "Quatro semanas seguidas de CSAT na meta.",
        "flame",
        "streak",
        4,
        "csat",
        "all",
        40,
    ),
    (
        "Resolve de primeira",
        "Três semanas no mês acima da meta desafio de resolução no primeiro contato.",
        "target",
        "exceeded",
        3,
        "fcr",
        "month",
        30,
    ),
    (
        "Mil pontos",
        "Mil pontos conquistados desde o início.",
        "trophy",
        "lifetime_points",
        1000,
        "",
        "all",
        50,
    ),
    (
        "Pódio do mês",
        "Entre os três primeiros do ranking geral do mês.",
        "medal",
        "leaderboard_top",
        3,
        "geral",
        "month",
        100,
    ),
    (
        "Cinco estrelas",
        "Duzentas avaliações de CSAT com nota 5 no mês.",
        "star",
        "five_star_csat",
        200,
        "",
        "month",
        20,
    ),
    ("Aprendiz", "Três treinamentos concluídos.", "book-open", "trainings", 3, "", "all", 25),
]


def demo_badges_seed() -> None:
    """The demo's badges, before the final reconciliation derives who holds them."""
    from rewards.models import Badge

    for position, (name, description, icon, criterion, n, about, repeat, points) in enumerate(
        DEMO_BADGES
    ):
        fields = {
            "description": description,
            "icon": icon,
            "criterion": criterion,
            "threshold": n,
            "repeat": repeat,
            "points": points,
            "position": position,
        }
        if criterion in {"streak", "exceeded"}:
            fields["standard"] = (
                ServiceStandard.objects.filter(metric=about, period="week").order_by("pk").first()
            )
            if fields["standard"] is None:
                continue
        if criterion == "leaderboard_top":
            fields["leaderboard"] = Leaderboard.objects.filter(slug=about).first()
            if fields["leaderboard"] is None:
                continue
        Badge.objects.get_or_create(name=name, defaults=fields)


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


# (name, description, cost, stock: None for unlimited)
DEMO_STORE = [
    ("Vale-café", "Um café com salgado na cafeteria do prédio.", 150, None),
    ("Ingresso de cinema", "Um ingresso para qualquer sessão, na rede parceira.", 400, 20),
    ("Kit Atendo", "Caneca e camiseta da operação.", 600, 10),
    ("Meio período de folga", "Quatro horas de folga, combinadas com a supervisão.", 1500, 5),
    ("Vale-compras R$ 100", "Crédito em loja parceira, enviado por e-mail.", 2500, None),
]
# What the demo agents have redeemed: (item, decision, reason) for the agents with the most
# spendable points, in turn; the demo login "agent" gets the first two.
DEMO_REDEMPTIONS = [
    ("Ingresso de cinema", "approved", ""),
    ("Kit Atendo", "pending", ""),
    ("Vale-café", "approved", ""),
    ("Meio período de folga", "rejected", "Sem cobertura de escala nesta semana: peça de novo."),
    ("Ingresso de cinema", "pending", ""),
    ("Vale-café", "cancelled", ""),
    ("Kit Atendo", "approved", ""),
]


def demo_store_seed() -> int:
    """The store and a few redemptions in every state, decided by the agents' leads;
    returns the redemptions made now."""
    from performance.models import Agent
    from rewards.models import AgentBalance, Redemption, StoreItem
    from rewards.services.store import (
        redemption_approve,
        redemption_cancel,
        redemption_reject,
        redemption_request,
    )

    items = {}
    for position, (name, description, cost, stock) in enumerate(DEMO_STORE):
        items[name], _ = StoreItem.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "cost": cost,
                "stock": stock,
                "position": position,
            },
        )
    if Redemption.objects.exists():
        return 0
    richest = list(
        AgentBalance.objects.filter(agent__active=True, spendable__gte=600)
        .order_by("-spendable")
        .values_list("agent_id", flat=True)[:5]
    )
    demo_agent = Agent.objects.filter(user__username="agent").first()
    agent_ids = ([demo_agent.pk] if demo_agent else []) + [
        a for a in richest if a != getattr(demo_agent, "pk", None)
    ]
    agents = {
        agent.pk: agent
        for agent in Agent.objects.select_related("user", "team").filter(pk__in=agent_ids)
    }
    made = 0
    for number, (item_name, decision, reason) in enumerate(DEMO_REDEMPTIONS):
        agent = agents.get(agent_ids[number // 2 % len(agent_ids)]) if agent_ids else None
        if agent is None:
            break
        try:
            redemption = redemption_request(
                agent=agent,
                item_id=items[item_name].pk,
                requested_by=agent.user,
                idempotency_key=f"demo:{number}",
            ).redemption
        except ValidationError:
            continue  # too few points for this one: the demo goes on without it
        made += 1
        lead = agent.team.leads.first()
        if decision == "approved" and lead:
            redemption_approve(redemption=redemption, decided_by=lead)
        elif decision == "rejected" and lead:
            redemption_reject(redemption=redemption, decided_by=lead, reason=reason)
        elif decision == "cancelled":
            redemption_cancel(redemption=redemption, cancelled_by=agent.user)
    return made


def demo_challenges_seed(today) -> int:
    """Two finished challenges last month (final, prizes and a badge paid) and one running
    this month, all started by the Lisboa lead for the Lisboa team; returns how many."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model

    from performance.models import Team
    from rewards.models import Badge, Challenge
    from rewards.services.challenges import ChallengeDraft, challenge_create, challenge_finalize

    lead = get_user_model().objects.filter(username="lead").first()
    team = Team.objects.filter(leads=lead).order_by("name").first() if lead else None
    if team is None or Challenge.objects.exists():
        return 0
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    finished = challenge_create(
        created_by=lead,
        draft=ChallengeDraft(
            name="Maratona de CSAT",
            description="Quem tem a melhor satisfação do mês, com pelo menos 30 avaliações.",
            kind=Challenge.Kind.INDIVIDUAL,
            measure=Challenge.Measure.METRIC,
            metric="csat",
            channel="",
            minimum_sample=30,
            starts_on=last_month,
            ends_on=this_month - timedelta(days=1),
            grace_days=0,
            teams=[team],
            prizes=[300, 200, 100],
        ),
    )
    challenge_finalize(challenge=finished)
    challenge_create(
        created_by=lead,
        draft=ChallengeDraft(
            name="Corrida de pontos do mês",
            description="Os pontos do mês decidem; os três primeiros ganham bônus.",
            kind=Challenge.Kind.INDIVIDUAL,
            measure=Challenge.Measure.POINTS,
            metric="",
            channel="",
            minimum_sample=1,
            starts_on=this_month,
            ends_on=(this_month + timedelta(days=32)).replace(day=1) - timedelta(days=1),
            grace_days=3,
            teams=[team],
            prizes=[250, 150, 75],
        ),
    )
    trophy, _ = Badge.objects.get_or_create(
        name="Campeão de desafio",
        defaults={
            "description": "Pódio de um desafio de quem chega primeiro.",
            "icon": "trophy",
            "criterion": Badge.Criterion.CHALLENGE,
            "threshold": 1,
            "points": 50,
            "repeat": Badge.Repeat.MONTH,
        },
    )
    first_to = challenge_create(
        created_by=lead,
        draft=ChallengeDraft(
            name="Primeiro a 6 superações",
            description="Quem primeiro superar a meta desafio em 6 períodos encerrados vence.",
            kind=Challenge.Kind.INDIVIDUAL,
            measure=Challenge.Measure.FIRST_TO,
            metric="",
            channel="",
            minimum_sample=1,
            starts_on=last_month,
            ends_on=this_month - timedelta(days=1),
            grace_days=0,
            teams=[team],
            prizes=[200],
            target=6,
            badge=trophy,
            badge_places=3,
        ),
    )
    challenge_finalize(challenge=first_to)
    return 3
