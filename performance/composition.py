"""What performance contributes to the pages composed in config (registered in apps.py):
its navigation entries, its home panel and the demo organisation's seed step."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.composition import DemoOptions, DemoStep, HomePanel, NavEntry
from performance.access import home_overview_for
from performance.roles import is_admin, is_agent, is_team_lead

SCORECARD_PAGES = frozenset({"agent-scorecard", "evaluation-interactions"})


NAV_ENTRIES = (
    NavEntry(_("My scorecard"), "my-scorecard", 10, is_agent, SCORECARD_PAGES),
    # For a lead, the scorecards they open are their team's: this entry is marked instead.
    NavEntry(_("Team"), "team-heatmap", 20, is_team_lead, SCORECARD_PAGES | {"team-heatmap"}),
    # Uploading starts from the batch list (its first button): one entry for both.
    NavEntry(
        _("Feeds"),
        "feed-batches",
        40,
        is_team_lead,
        frozenset({"feed-batches", "feed-batch", "feed-upload"}),
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
        gettext(
            "Demo ready in %(seconds)ss: %(teams)s teams, %(agents)s agents, interactions "
            "%(start)s to %(end)s; %(batches)s batches ingested (%(rows)s rows), %(skipped)s "
            "files already ingested; %(standards)s standards, %(evaluations)s evaluations."
        )
        % {
            "seconds": f"{result.seconds:.1f}",
            "teams": result.teams,
            "agents": result.agents,
            "start": result.start,
            "end": result.end,
            "batches": len(result.batches),
            "rows": f"{rows:,}",
            "skipped": len(result.skipped_files),
            "standards": result.standards,
            "evaluations": f"{result.evaluations:,}",
        }
    )
    for slug, token in result.new_tokens.items():
        options.log(
            gettext("API token for feed source %(slug)r (shown once): %(token)s")
            % {"slug": slug, "token": token}
        )


DEMO_STEPS = (DemoStep("performance.organisation", demo_organisation_step, 10),)
