"""Writing the organisation: an agent's dated team memberships, the one writer of Agent.team.

An agent's memberships cover every day from MEMBERSHIP_ORIGIN on, without gaps or overlaps;
the open one (ends_on null) is the agent's current team, kept in Agent.team for every reader
that only needs today's team. Moving an agent closes the open membership on the effective
day, opens one in the new team from that day, and re-scores the agent's periods from that
day after commit: past periods stay judged in the team the agent was in then.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from performance.models import MEMBERSHIP_ORIGIN, Agent, Team, TeamMembership
from performance.services.evaluation import EvaluationRun, evaluate_periods
from performance.tasks import evaluate_agent_since as evaluate_agent_since_task

# How far back a move may be dated: it re-scores the agent's periods from that day on, so
# this also bounds the re-scoring a move costs (a quarter of one agent's periods).
MOVE_BACKDATE_DAYS = 92


def team_today(team: Team) -> date:
    return timezone.localtime(timezone=ZoneInfo(team.time_zone)).date()


def agent_membership_open(
    *, agent: Agent, created_by: AbstractBaseUser | None = None
) -> TeamMembership:
    """The first membership of an agent that has none: its team, from MEMBERSHIP_ORIGIN
    (facts back-filled from before the agent was created are judged in that team). An agent
    that has memberships already gets its current one back."""
    current = TeamMembership.objects.filter(agent=agent, ends_on__isnull=True).first()
    if current is not None:
        return current
    membership, _ = TeamMembership.objects.get_or_create(
        agent=agent,
        starts_on=MEMBERSHIP_ORIGIN,
        defaults={"team_id": agent.team_id, "created_by": created_by},
    )
    return membership


def agent_memberships_open_missing(*, batch_size: int = 5000) -> int:
    """The first membership of every agent that has none (agents made in bulk): how many."""
    pending = [
        TeamMembership(agent_id=agent_id, team_id=team_id, starts_on=MEMBERSHIP_ORIGIN)
        for agent_id, team_id in Agent.objects.filter(memberships__isnull=True).values_list(
            "id", "team_id"
        )
    ]
    TeamMembership.objects.bulk_create(pending, batch_size=batch_size)
    return len(pending)


def agent_move_check(
    *, agent: Agent, team: Team, effective_on: date, current: TeamMembership | None = None
) -> None:
    """Why `agent` cannot move to `team` on `effective_on`, as a ValidationError naming the
    field, or nothing. A move takes effect at local midnight of `effective_on` in the new
    team's zone; it may be dated up to MOVE_BACKDATE_DAYS back, never in the future (the
    agent's current team is today's), and not before the current membership began."""
    if team.pk == agent.team_id:
        raise ValidationError(
            {
                "team": ValidationError(
                    _("%(agent)s is already in team %(team)s."),
                    code="same_team",
                    params={"agent": agent.display_name, "team": team.name},
                )
            }
        )
    today = team_today(team)
    if effective_on > today:
        raise ValidationError(
            {
                "effective_on": ValidationError(
                    _(
                        "A move cannot be dated after today (%(today)s in team %(team)s): "
                        "move the agent on the day it happens."
                    ),
                    code="future",
                    params={"today": date_format(today), "team": team.name},
                )
            }
        )
    earliest = today - timedelta(days=MOVE_BACKDATE_DAYS)
    if current is None:
        current = TeamMembership.objects.filter(agent=agent, ends_on__isnull=True).first()
    if current is not None and current.starts_on > earliest:
        earliest = current.starts_on
    if effective_on < earliest:
        raise ValidationError(
            {
                "effective_on": ValidationError(
                    _(
                        "A move can be dated back to %(earliest)s at the earliest (up to "
                        "%(days)s days back, and not before the agent joined the current team)."
                    ),
                    code="too_early",
                    params={"earliest": date_format(earliest), "days": MOVE_BACKDATE_DAYS},
                )
            }
        )


@transaction.atomic
def agent_move_team(
    *,
    agent: Agent,
    team: Team,
    effective_on: date,
    moved_by: AbstractBaseUser | None,
) -> TeamMembership:
    """Move `agent` to `team` from `effective_on` (see agent_move_check for the dates
    allowed) and re-score the agent's periods from that day after commit.

    Dated on the day the current membership began, a move corrects that membership's team
    instead (merging it into the one before when that was the same team). Returns the
    agent's new current membership; `agent.team` is updated in place.
    """
    locked = Agent.objects.select_for_update().get(pk=agent.pk)
    current = TeamMembership.objects.filter(agent=locked, ends_on__isnull=True).first()
    if current is None:
        current = agent_membership_open(agent=locked, created_by=moved_by)
    agent_move_check(agent=locked, team=team, effective_on=effective_on, current=current)
    if effective_on == current.starts_on:
        previous = TeamMembership.objects.filter(agent=locked, ends_on=current.starts_on).first()
        if previous is not None and previous.team_id == team.pk:
            current.delete()
            previous.ends_on = None
            previous.save(update_fields=["ends_on"])
            membership = previous
        else:
            current.team = team
            current.created_by = moved_by
            current.save(update_fields=["team", "created_by"])
            membership = current
    else:
        current.ends_on = effective_on
        current.save(update_fields=["ends_on"])
        membership = TeamMembership.objects.create(
            agent=locked, team=team, starts_on=effective_on, created_by=moved_by
        )
    locked.team = team
    locked.save(update_fields=["team"])
    agent.team = team
    evaluate_agent_since_task.delay_on_commit(agent.pk, effective_on.isoformat())
    return membership


def agent_rescore_since(*, agent_id: int, since: date) -> EvaluationRun:
    """Re-score one agent's periods from `since` (clamped to MOVE_BACKDATE_DAYS back) to the
    last closed day in the agent's current team zone: what a move changed, and nothing else.

    Only closed days, whose periods every other agent already has rows in (the nightly run
    scores them): an agent-restricted run there leaves the rows a full run would. The period
    under way follows with the next batch touching it or the next nightly run, which score
    whole periods."""
    agent = Agent.objects.select_related("team").filter(pk=agent_id).first()
    if agent is None:
        return EvaluationRun()
    last_closed = team_today(agent.team) - timedelta(days=1)
    since = max(since, last_closed - timedelta(days=MOVE_BACKDATE_DAYS))
    if since > last_closed:
        return EvaluationRun()
    return evaluate_periods(since=since, until=last_closed, agent_ids=[agent_id])
