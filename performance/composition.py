"""What performance contributes to the pages composed in config (registered in apps.py):
its navigation entries, its home panel and the demo organisation's seed step."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from config.composition import DemoOptions, DemoStep, HomePanel, NavEntry
from performance.access import home_overview_for
from performance.roles import is_admin, is_agent, is_team_lead

SCORECARD_PAGES = frozenset({"agent-scorecard", "evaluation-interactions"})


NAV_ENTRIES = (
    NavEntry(_("My scorecard"), "my-scorecard", 10, is_agent, SCORECARD_PAGES),
    # For a lead, the scorecards they open are their team's: this entry is marked instead.
    NavEntry(_("Team"), "team-heatmap", 20, is_team_lead, SCORECARD_PAGES | {"team-heatmap"}),
    NavEntry(_("Upload feed"), "feed-upload", 30, is_team_lead, frozenset({"feed-upload"})),
    NavEntry(
        _("Batches"), "feed-batches", 40, is_team_lead, frozenset({"feed-batches", "feed-batch"})
    ),
    NavEntry(_("Admin"), "admin:index", 90, is_admin),
)


def home_overview_panel(request: HttpRequest) -> dict[str, Any]:
    return {"overview": home_overview_for(request.user)}


HOME_PANELS = (HomePanel("performance", "performance/home.html", home_overview_panel, 10),)


def demo_organisation_step(options: DemoOptions) -> None:
    """The organisation: teams, people, feed sources, months of facts and their evaluations."""
    from performance.demo import demo_organisation_seed

    result = demo_organisation_seed(
        days=options.days, agents=options.agents, seed=options.seed, log=options.log
    )
    rows = sum(batch.rows_read for batch in result.batches)
    options.success(
        f"Demo ready in {result.seconds:.1f}s: {result.teams} teams, {result.agents} "
        f"agents, interactions {result.start} to {result.end}; {len(result.batches)} "
        f"batches ingested ({rows:,} rows), {len(result.skipped_files)} files already "
        f"ingested; {result.standards} standards, {result.evaluations:,} evaluations."
    )
    for slug, token in result.new_tokens.items():
        options.log(f"API token for feed source {slug!r} (shown once): {token}")


DEMO_STEPS = (DemoStep("performance.organisation", demo_organisation_step, 10),)
