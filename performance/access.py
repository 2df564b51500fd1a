"""The audited ways a view reaches agents, batches and sources for a user.

Agents see their own rows, team leads the agents of the teams they lead, admins all.
Quality analysts review the interactions of the teams assigned to them (and leads those of
the teams they lead).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from performance.models import (
    Agent,
    Evaluation,
    FeedBatch,
    FeedSource,
    Interaction,
    ServiceStandard,
    StandardVersion,
    Team,
)
from performance.roles import is_admin, is_quality_analyst, is_team_lead


def teams_led_by(user: AbstractBaseUser) -> QuerySet[Team]:
    if is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(leads=user)


def teams_reviewed_by(user: AbstractBaseUser) -> QuerySet[Team]:
    """The teams whose interactions the user may review: an analyst's assigned teams and a
    lead's own teams; every team for admins."""
    if is_admin(user):
        return Team.objects.all()
    if not (is_quality_analyst(user) or is_team_lead(user)):
        return Team.objects.none()
    return Team.objects.filter(
        Q(pk__in=Team.objects.filter(quality_analysts=user).values("pk"))
        | Q(pk__in=Team.objects.filter(leads=user).values("pk"))
    )


def interactions_reviewable_by(user: AbstractBaseUser) -> QuerySet[Interaction]:
    """The interactions the user may review: those of the agents of teams_reviewed_by (by
    the agent's current team), never the user's own."""
    interactions = Interaction.objects.select_related("agent__user", "agent__team")
    if is_admin(user):
        return interactions.exclude(agent__user=user)
    return interactions.filter(agent__team__in=teams_reviewed_by(user)).exclude(agent__user=user)


def agents_reviewable_by(user: AbstractBaseUser) -> QuerySet[Agent]:
    """The agents whose interactions the user may review (interactions_reviewable_by)."""
    agents = Agent.objects.select_related("user", "team").exclude(user=user)
    if is_admin(user):
        return agents
    return agents.filter(team__in=teams_reviewed_by(user))


def agents_visible_to(user: AbstractBaseUser) -> QuerySet[Agent]:
    agents = Agent.objects.select_related("user", "team")
    if is_admin(user):
        return agents
    if is_team_lead(user):
        # A subquery, not a join on leads: a team with several leads must not repeat agents.
        return agents.filter(Q(team__in=Team.objects.filter(leads=user)) | Q(user=user))
    return agents.filter(user=user)


def agent_ids_visible_to(user: AbstractBaseUser, agent_ids: Collection[int]) -> set[int]:
    """Which of `agent_ids` the user may open (agents_visible_to): one query, none for
    an empty list."""
    if not agent_ids:
        return set()
    return set(agents_visible_to(user).filter(pk__in=list(agent_ids)).values_list("pk", flat=True))


def agent_for_user_or_404(user: AbstractBaseUser, agent_id: int) -> Agent:
    try:
        return agents_visible_to(user).get(pk=agent_id)
    except Agent.DoesNotExist:
        raise Http404(gettext("No such agent")) from None


def can_upload_feeds(user: AbstractBaseUser) -> bool:
    return is_team_lead(user)


def sources_for_upload(user: AbstractBaseUser) -> QuerySet[FeedSource]:
    """The active sources a person may upload to: every one for an admin; for a lead, those
    an admin opened to a team they lead (FeedSource.upload_teams)."""
    if not can_upload_feeds(user):
        return FeedSource.objects.none()
    sources = FeedSource.objects.filter(active=True)
    if is_admin(user):
        return sources
    # A subquery, not a join: a source open to two of the lead's teams must not repeat.
    return sources.filter(
        pk__in=FeedSource.upload_teams.through.objects.filter(team__leads=user).values(
            "feedsource_id"
        )
    )


def teams_written_by_batch(batch: FeedBatch) -> frozenset[int] | None:
    """The teams whose agents' facts a batch may create or change; None means any agent of
    its source.

    Decided by who sent the batch, read when it is processed (a re-processed batch keeps its
    uploader's scope, as it stands then): a person who is not an admin writes facts of the
    teams they lead (a review's score: of the teams they review), none once they lead no
    team or their account is gone; a source's token, the command line, the demo seed and
    admins are not limited.
    """
    uploader = batch.uploaded_by
    if uploader is None:
        return frozenset() if batch.via in (FeedBatch.Via.UPLOAD, FeedBatch.Via.REVIEW) else None
    if is_admin(uploader):
        return None
    if batch.via == FeedBatch.Via.REVIEW:
        # A review's score is written for the teams its reviewer reviews, as they stand now.
        return frozenset(teams_reviewed_by(uploader).values_list("pk", flat=True))
    if not is_team_lead(uploader):
        return frozenset()
    return frozenset(Team.objects.filter(leads=uploader).values_list("pk", flat=True))


def sources_visible_to(user: AbstractBaseUser) -> QuerySet[FeedSource]:
    """Every source, inactive ones too (their batches stay listed), for feed workers."""
    if not can_upload_feeds(user):
        return FeedSource.objects.none()
    return FeedSource.objects.all()


def batches_visible_to(user: AbstractBaseUser) -> QuerySet[FeedBatch]:
    batches = FeedBatch.objects.select_related("source", "uploaded_by")
    if is_admin(user):
        return batches
    if is_team_lead(user):
        return batches.filter(uploaded_by=user)
    return batches.none()


def batch_for_user_or_404(user: AbstractBaseUser, batch_id: int) -> FeedBatch:
    try:
        return batches_visible_to(user).get(pk=batch_id)
    except FeedBatch.DoesNotExist:
        raise Http404(gettext("No such batch")) from None


def may_reprocess(user: AbstractBaseUser, batch: FeedBatch) -> bool:
    """Re-processing writes again: a lead re-processes a batch they see (their own upload)
    only while they may still upload to its source; admins any batch."""
    return is_admin(user) or sources_for_upload(user).filter(pk=batch.source_id).exists()


def batch_for_reprocess_or_404(user: AbstractBaseUser, batch_id: int) -> FeedBatch:
    batch = batch_for_user_or_404(user, batch_id)
    if not may_reprocess(user, batch):
        raise PermissionDenied(
            gettext(
                "You may no longer upload to the source %(source)s, so this batch cannot be "
                "re-processed by you; ask an admin."
            )
            % {"source": batch.source.name}
        )
    return batch


def batch_for_source_or_404(source: FeedSource, batch_id: int) -> FeedBatch:
    """A feed source's token reads only the batches it sent: with this very token, so after
    a rotation the new token does not read what the old one sent (people's uploads and the
    command line's batches of the source are not the token's either)."""
    if not source.token_hash:
        raise Http404(gettext("No such batch"))
    try:
        return FeedBatch.objects.select_related("source", "uploaded_by").get(
            pk=batch_id, source=source, token_hash=source.token_hash
        )
    except FeedBatch.DoesNotExist:
        raise Http404(gettext("No such batch")) from None


HOME_RECENT_DAYS = 30
HOME_RECENT_BATCHES = 8


@dataclass(frozen=True)
class HomeOverview:
    """What the home page shows a user: their own agent, teams led, sources, batches."""

    agent: Agent | None
    recent_interactions: int
    recent_days: int
    teams: list[Team]
    sources: list[FeedSource]
    batches: list[FeedBatch]


def home_overview_for(user: AbstractBaseUser) -> HomeOverview:
    agent = Agent.objects.select_related("team").filter(user=user).first()
    recent = 0
    if agent is not None:
        since = timezone.now() - timedelta(days=HOME_RECENT_DAYS)
        recent = Interaction.objects.filter(agent=agent, started_at__gte=since).count()
    teams: list[Team] = []
    sources: list[FeedSource] = []
    if is_admin(user):
        sources = list(
            sources_visible_to(user).annotate(
                batch_count=Count("batches"), last_received_at=Max("batches__received_at")
            )
        )
    elif is_team_lead(user):
        teams = list(
            teams_led_by(user).annotate(agent_count=Count("agents", filter=Q(agents__active=True)))
        )
    batches = list(batches_visible_to(user)[:HOME_RECENT_BATCHES]) if is_team_lead(user) else []
    return HomeOverview(
        agent=agent,
        recent_interactions=recent,
        recent_days=HOME_RECENT_DAYS,
        teams=teams,
        sources=sources,
        batches=batches,
    )


def standards_visible_to(user: AbstractBaseUser) -> QuerySet[ServiceStandard]:
    """Every logged-in person reads the standards: what good looks like is no secret.
    Only admins change them (checked by the caller)."""
    if not user.is_authenticated:
        return ServiceStandard.objects.none()
    return ServiceStandard.objects.prefetch_related(
        "teams", Prefetch("versions", queryset=StandardVersion.objects.order_by("number"))
    )


def standard_for_user_or_404(
    user: AbstractBaseUser, standard_id: int, *, for_update: bool = False
) -> ServiceStandard:
    """A standard by id; `for_update` locks the row (inside a transaction) for an edit."""
    standards = standards_visible_to(user)
    if for_update:
        standards = standards.prefetch_related(None).select_for_update()
    try:
        return standards.get(pk=standard_id)
    except ServiceStandard.DoesNotExist:
        raise Http404(gettext("No such standard")) from None


def evaluations_visible_to(user: AbstractBaseUser) -> QuerySet[Evaluation]:
    """The evaluations of the agents a user may see (see agents_visible_to)."""
    evaluations = Evaluation.objects.select_related("agent__user", "standard", "version")
    if is_admin(user):
        return evaluations
    return evaluations.filter(agent__in=agents_visible_to(user).values("pk"))


def evaluation_for_user_or_404(user: AbstractBaseUser, evaluation_id: int) -> Evaluation:
    """An evaluation of an agent the user may see (the same rule as the agent's scorecard)."""
    try:
        return evaluations_visible_to(user).select_related("agent__team").get(pk=evaluation_id)
    except Evaluation.DoesNotExist:
        raise Http404(gettext("No such evaluation")) from None
