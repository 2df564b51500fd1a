"""What coaching contributes to the composed pages (registered in apps.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.composition import DemoOptions, DemoStep, HomePanel, NavEntry
from performance.roles import is_admin, is_agent, is_reviewer, is_team_lead

FLAG_PAGES = frozenset({"coaching:flag", "coaching:session"})
TRAINING_PAGES = frozenset({"coaching:training", "coaching:assignment"})
REVIEW_PAGES = frozenset({"coaching:my-reviews", "coaching:review"})
QUALITY_PAGES = frozenset(
    {
        "coaching:quality",
        "coaching:review",
        "coaching:quality-plans",
        "coaching:quality-reports",
        "coaching:calibrations",
        "coaching:calibration",
        "coaching:calibration-alignment",
    }
)
LEAD_PAGES = frozenset(
    {
        "coaching:queue",
        "coaching:flag-open",
        "coaching:sessions",
        "coaching:session-new",
        "coaching:effectiveness",
        "coaching:team-training",
        "coaching:training-assign",
    }
)

NAV_ENTRIES = (
    # An agent's training is part of their coaching (the navigation has no room for more).
    NavEntry(
        _("My coaching"),
        "coaching:me",
        17,
        is_agent,
        FLAG_PAGES | TRAINING_PAGES | REVIEW_PAGES | {"coaching:me"},
    ),
    # For a lead, the flags they open are their agents': this entry is marked instead.
    NavEntry(
        _("Coaching"),
        "coaching:queue",
        23,
        is_team_lead,
        FLAG_PAGES | TRAINING_PAGES | LEAD_PAGES | QUALITY_PAGES,
    ),
    # Reviewing is a quality analyst's main page; a lead's monitoria is part of their coaching
    # (the "Coaching" entry above, whose pages link to it), so their navigation fits a laptop.
    NavEntry(
        _("Quality"),
        "coaching:quality",
        24,
        lambda user: is_reviewer(user) and not is_team_lead(user),
        QUALITY_PAGES,
    ),
)


def home_goals_panel(request: HttpRequest) -> dict[str, Any]:
    from coaching.selectors import agent_goals

    return {"goals": agent_goals(request.user.agent)}


def home_queue_panel(request: HttpRequest) -> dict[str, Any]:
    from coaching.selectors import flags_visible_to, lead_upcoming_sessions

    return {
        "open": flags_visible_to(request.user).filter(status="open").count(),
        "upcoming": lead_upcoming_sessions(request.user),
    }


def home_quality_panel(request: HttpRequest) -> dict[str, Any]:
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from coaching.models import QAReview
    from performance.access import teams_reviewed_by

    week_ago = timezone.now() - timedelta(days=7)
    counts = QAReview.objects.filter(reviewer=request.user).aggregate(
        drafts=Count("pk", filter=Q(status=QAReview.Status.DRAFT)),
        finished_week=Count(
            "pk", filter=Q(status=QAReview.Status.FINISHED, finished_at__gte=week_ago)
        ),
    )
    teams = teams_reviewed_by(request.user).order_by("name").values_list("name", flat=True)
    return {**counts, "teams": list(teams)}


def _reviews_at_home(user: Any) -> bool:
    """Quality analysts and leads; admins review from the navigation (every team is theirs)."""
    return is_reviewer(user) and not is_admin(user)


HOME_PANELS = (
    HomePanel("coaching-goals", "coaching/home_goals.html", home_goals_panel, 25, is_agent),
    HomePanel("coaching-queue", "coaching/home_queue.html", home_queue_panel, 25, is_team_lead),
    HomePanel(
        "coaching-quality", "coaching/home_quality.html", home_quality_panel, 26, _reviews_at_home
    ),
)


def demo_flags_step(options: DemoOptions) -> None:
    """The coaching flags of the demo history (the evaluation seam has derived most of them
    already, as batches were ingested)."""
    from coaching.models import CoachingFlag
    from coaching.services.flags import flags_derive

    flags_derive()
    counts = {
        status: CoachingFlag.objects.filter(status=status).count()
        for status in CoachingFlag.Status.values
    }
    options.success(
        gettext("Coaching flags: %(open)s open, %(resolved)s resolved.")
        % {"open": counts["open"], "resolved": counts["resolved"]}
    )


def demo_sessions_step(options: DemoOptions) -> None:
    """Coaching sessions of the Lisboa lead: held and acknowledged weeks ago, one the demo
    agent still has to acknowledge, upcoming and cancelled ones."""
    from django.utils import timezone

    from coaching.demo import demo_sessions_seed

    counts = demo_sessions_seed(timezone.localdate())
    if counts:
        options.success(
            gettext(
                "Coaching sessions: %(held)s held, %(scheduled)s booked, %(cancelled)s cancelled."
            )
            % counts
        )


def demo_quality_step(options: DemoOptions) -> None:
    """Two pt-BR QA forms and a few hundred reviews over the demo's months (before points
    are awarded: the reviews' scores are part of the history points are earned on)."""
    from django.utils import timezone

    from coaching.demo_quality import demo_quality_seed

    counts = demo_quality_seed(timezone.localdate(), days=options.days, seed=options.seed)
    if counts:
        options.success(
            gettext(
                "Quality monitoring: %(finished)s reviews finished (%(acknowledged)s "
                "acknowledged), %(drafts)s drafts; disputes: %(disputes_open)s open, "
                "%(disputes_accepted)s accepted, %(disputes_rejected)s rejected; %(drawn)s "
                "interactions drawn by the weekly review plan; %(mystery)s mystery-shopper "
                "calls reviewed."
            )
            % counts
        )


def demo_training_step(options: DemoOptions) -> None:
    """Four pt-BR training modules with quizzes, assigned in every state."""
    from django.utils import timezone

    from coaching.demo_training import demo_training_seed

    counts = demo_training_seed(timezone.localdate())
    if counts:
        options.success(
            gettext(
                "Training: %(assigned)s assigned, %(in_progress)s in progress, "
                "%(overdue)s overdue, %(completed)s completed."
            )
            % counts
        )


DEMO_STEPS = (
    DemoStep("coaching.quality", demo_quality_step, 15),
    DemoStep("coaching.flags", demo_flags_step, 30),
    DemoStep("coaching.sessions", demo_sessions_step, 31),
    DemoStep("coaching.training", demo_training_step, 32),
)
