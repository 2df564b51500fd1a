"""What rewards contributes to the composed pages (registered in apps.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.composition import DemoOptions, DemoStep, HomePanel, NavEntry
from performance.roles import is_agent, is_team_lead
from rewards.selectors import (
    agent_badges,
    agent_balance,
    agent_standings,
    agent_streaks,
    level_progress,
)

POINTS_PAGES = frozenset({"rewards:my-points", "rewards:agent-points"})

NAV_ENTRIES = (
    NavEntry(_("My points"), "rewards:my-points", 15, is_agent, POINTS_PAGES),
    # For a lead, the points pages they open are their agents': this entry is marked instead.
    NavEntry(
        _("Points"),
        "rewards:team-points",
        25,
        is_team_lead,
        POINTS_PAGES | {"rewards:team-points", "rewards:adjustments", "rewards:payroll"},
    ),
    NavEntry(
        _("Leaderboards"),
        "rewards:leaderboards",
        26,
        lambda user: is_agent(user) or is_team_lead(user),
        frozenset({"rewards:leaderboards", "rewards:leaderboard"}),
    ),
    NavEntry(
        _("Challenges"),
        "rewards:challenges",
        27,
        lambda user: is_agent(user) or is_team_lead(user),
        frozenset({"rewards:challenges", "rewards:challenge", "rewards:challenge-new"}),
    ),
    NavEntry(
        _("Store"),
        "rewards:store",
        28,
        is_agent,
        frozenset({"rewards:store", "rewards:my-redemptions"}),
    ),
    NavEntry(
        _("Approvals"),
        "rewards:approvals",
        29,
        is_team_lead,
        frozenset({"rewards:approvals"}),
    ),
)


def home_points_panel(request: HttpRequest) -> dict[str, Any]:
    agent = request.user.agent
    balance = agent_balance(agent)
    return {
        "balance": balance,
        "level": level_progress(balance.lifetime),
        "standings": agent_standings(agent, today=timezone.localdate()),
        "badges": agent_badges(agent),
        "streaks": [streak for streak in agent_streaks(agent) if streak.current],
    }


HOME_PANELS = (HomePanel("rewards", "rewards/home.html", home_points_panel, 20, is_agent),)


def demo_points_step(options: DemoOptions) -> None:
    """Levels, streak bonuses, boards and badges, then the ledger of the demo history: every
    closed period's points, bonuses and badges, reconciled (the evaluation seam has paid most of the
    points already, as batches were ingested)."""
    from rewards.demo import (
        demo_badges_seed,
        demo_challenges_seed,
        demo_leaderboards_seed,
        demo_progress_seed,
        demo_store_seed,
    )
    from rewards.models import AgentBadge, Challenge, StoreItem
    from rewards.selectors import ledger_totals
    from rewards.services.reconcile import reconcile

    demo_progress_seed()
    demo_leaderboards_seed()
    demo_badges_seed()
    appended = reconcile().entries
    challenges = demo_challenges_seed(timezone.localdate())
    appended += reconcile().entries
    totals = ledger_totals()
    redemptions = demo_store_seed()
    options.success(
        gettext("Badges: %(held)s held by %(agents)s agents.")
        % {
            "held": AgentBadge.objects.count(),
            "agents": AgentBadge.objects.values("agent").distinct().count(),
        }
    )
    options.success(
        gettext("Challenges: %(count)s made, %(final)s of them final.")
        % {
            "count": challenges,
            "final": Challenge.objects.filter(finalized_at__isnull=False).count(),
        }
    )
    options.success(
        gettext("Reward store: %(items)s items, %(redemptions)s redemptions.")
        % {"items": StoreItem.objects.count(), "redemptions": redemptions}
    )
    options.success(
        gettext(
            "Points ledger: %(entries)s entries (%(points)s points) for %(agents)s agents, "
            "%(appended)s appended by the final reconciliation."
        )
        % {
            "entries": f"{totals.entries:,}",
            "points": f"{totals.points:,}",
            "agents": totals.agents,
            "appended": appended,
        }
    )


DEMO_STEPS = (DemoStep("rewards.points", demo_points_step, 20),)
