"""Challenges: created by leads (for the teams they lead) and admins (any teams); beat makes
them final once their grace period is over, freezing the results; reconciliation then pays
the prizes through the ledger (challenge_prizes_implied), once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from performance.access import teams_led_by
from performance.models import ServiceStandard, Team
from performance.roles import is_admin, is_team_lead
from performance.services.notifications import Notice, notices_send
from rewards.models import Badge, Challenge, ChallengePrize, ChallengeResult
from rewards.models.challenges import MAX_CHALLENGE_DAYS
from rewards.selectors.challenges import (
    challenge_participants,
    challenge_standings,
    challenge_today,
)

MAX_PRIZES = 10


@dataclass(frozen=True)
class ChallengeDraft:
    name: str
    description: str
    kind: str
    measure: str
    metric: str
    channel: str
    minimum_sample: int
    starts_on: date
    ends_on: date
    grace_days: int
    teams: Sequence[Team]
    prizes: Sequence[int]  # points for places 1, 2, 3 ... (0: the badge alone)
    target: int | None = None  # first to N exceeded periods
    standard: ServiceStandard | None = None  # first-to: only this standard's periods
    badge: Badge | None = None  # also a prize: for the first `badge_places` places
    badge_places: int = 0


def _creator_zone(user: AbstractBaseUser) -> str:
    team = teams_led_by(user).order_by("name").first()
    return team.time_zone if team is not None else settings.TIME_ZONE


def challenge_create(*, created_by: AbstractBaseUser, draft: ChallengeDraft) -> Challenge:
    """A lead's challenge is for teams they lead; an admin's for any teams."""
    errors: dict[str, str] = {}
    if not is_team_lead(created_by):
        raise ValidationError({"teams": _("Only team leads and admins create challenges.")})
    if not draft.teams:
        errors["teams"] = _("Choose the teams taking part.")
    elif not is_admin(created_by):
        led = set(teams_led_by(created_by).values_list("pk", flat=True))
        outside = [team.name for team in draft.teams if team.pk not in led]
        if outside:
            errors["teams"] = _("You lead none of these teams: %(teams)s.") % {
                "teams": ", ".join(sorted(outside))
            }
    if draft.ends_on < draft.starts_on:
        errors["ends_on"] = _("The last day comes before the first.")
    elif (draft.ends_on - draft.starts_on).days + 1 > MAX_CHALLENGE_DAYS:
        errors["ends_on"] = _("A challenge lasts at most %(days)s days.") % {
            "days": MAX_CHALLENGE_DAYS
        }
    if draft.measure == Challenge.Measure.METRIC and not draft.metric:
        errors["metric"] = _("Choose the metric the challenge ranks on.")
    if draft.measure == Challenge.Measure.FIRST_TO and not draft.target:
        errors["target"] = _("Give the number of exceeded periods to reach first.")
    places = max(len(draft.prizes), draft.badge_places if draft.badge else 0)
    badge_for = range(1, draft.badge_places + 1) if draft.badge else range(0)
    if places > MAX_PRIZES or any(
        points < 0 or (points == 0 and place not in badge_for)
        for place, points in enumerate(draft.prizes, start=1)
    ):
        errors["prizes"] = _(
            "Give up to %(count)s prizes, each of at least 1 point or with the badge."
        ) % {"count": MAX_PRIZES}
    if draft.badge is not None and (
        draft.badge.criterion != Badge.Criterion.CHALLENGE or not draft.badge.active
    ):
        errors["badge"] = _("Only an active badge of the criterion “a prize in a challenge”.")
    if errors:
        raise ValidationError(errors)
    first_to = draft.measure == Challenge.Measure.FIRST_TO
    with transaction.atomic():
        challenge = Challenge.objects.create(
            name=draft.name,
            description=draft.description,
            kind=draft.kind,
            measure=draft.measure,
            metric=draft.metric if draft.measure == Challenge.Measure.METRIC else "",
            channel=draft.channel,
            minimum_sample=draft.minimum_sample,
            target=draft.target if first_to else None,
            standard=draft.standard if first_to else None,
            starts_on=draft.starts_on,
            ends_on=draft.ends_on,
            grace_days=draft.grace_days,
            time_zone=_creator_zone(created_by),
            created_by=created_by,
        )
        challenge.teams.set(draft.teams)
        ChallengePrize.objects.bulk_create(
            [
                ChallengePrize(
                    challenge=challenge,
                    place=place,
                    points=draft.prizes[place - 1] if place <= len(draft.prizes) else 0,
                    badge=draft.badge if place in badge_for else None,
                )
                for place in range(1, places + 1)
            ]
        )
    return challenge


def challenge_finalize(*, challenge: Challenge) -> bool:
    """Freeze the standings and queue the prizes, once (compare-and-swap on finalized_at);
    False if it was already final."""
    from rewards.tasks import reconcile_agents

    with transaction.atomic():
        moved = Challenge.objects.filter(pk=challenge.pk, finalized_at__isnull=True).update(
            finalized_at=timezone.now()
        )
        if not moved:
            return False
        standings = challenge_standings(challenge)
        participants = challenge_participants(challenge)
        rows: list[ChallengeResult] = []
        if challenge.kind == Challenge.Kind.TEAM:
            by_team = {row.team.pk: row for row in standings}
            for agent in participants:
                row = by_team.get(agent.team_id)
                if row is not None:
                    rows.append(
                        ChallengeResult(
                            challenge=challenge,
                            agent=agent,
                            team_id=agent.team_id,
                            rank=row.rank,
                            value=row.value,
                            sample=row.sample,
                            prize_points=row.prize_points,
                            prize_badge=row.prize_badge,
                        )
                    )
        else:
            rows = [
                ChallengeResult(
                    challenge=challenge,
                    agent=row.agent,
                    rank=row.rank,
                    value=row.value,
                    sample=row.sample,
                    prize_points=row.prize_points,
                    prize_badge=row.prize_badge,
                )
                for row in standings
            ]
        ChallengeResult.objects.bulk_create(rows)
        winners = [row for row in rows if row.prize_points or row.prize_badge_id]
        if winners:
            reconcile_agents.delay_on_commit([row.agent_id for row in winners])
        _prizes_notify(challenge, winners)
    return True


def _prize_message(challenge: Challenge, row: ChallengeResult) -> str:
    """In the recipient's language (notices_send calls it under their translation)."""
    values = {
        "rank": row.rank,
        "challenge": challenge.name,
        "points": row.prize_points,
        "badge": row.prize_badge.name if row.prize_badge else "",
    }
    if row.prize_points and row.prize_badge:
        return (
            _("You finished #%(rank)s in %(challenge)s: %(points)s points and the badge %(badge)s.")
            % values
        )
    if row.prize_badge:
        return _("You finished #%(rank)s in %(challenge)s: the badge %(badge)s.") % values
    return _("You finished #%(rank)s in %(challenge)s: %(points)s points.") % values


def _prizes_notify(challenge: Challenge, winners: Iterable[ChallengeResult]) -> None:
    url = reverse("rewards:challenge", args=[challenge.pk])
    notices_send(
        [
            Notice(
                user_id=row.agent.user_id,
                key=f"challenge:{challenge.pk}:prize",
                kind="challenge",
                message=partial(_prize_message, challenge, row),
                url=url,
            )
            for row in winners
        ]
    )


def challenges_finalize_due() -> int:
    """Beat: every challenge whose grace period is over, in its creator's zone."""
    finalized = 0
    latest_end = timezone.localdate() + timedelta(days=1)
    for challenge in Challenge.objects.filter(finalized_at__isnull=True, ends_on__lt=latest_end):
        if challenge_today(challenge) >= challenge.final_on and challenge_finalize(
            challenge=challenge
        ):
            finalized += 1
    return finalized


@dataclass(frozen=True)
class ImpliedPrize:
    agent_id: int
    reference: str
    points: int
    earned_on: date
    note: str


def challenge_prizes_implied(agent_ids: Sequence[int]) -> list[ImpliedPrize]:
    """What the final results pay the agents (reconciliation compares it with the ledger)."""
    return [
        ImpliedPrize(
            agent_id=result.agent_id,
            reference=result.reference,
            points=result.prize_points,
            earned_on=result.challenge.ends_on,
            note=_("Challenge %(challenge)s: finished #%(rank)s")
            % {
                "challenge": result.challenge.name,
                "rank": result.rank,
            },
        )
        for result in ChallengeResult.objects.filter(
            agent_id__in=list(agent_ids), prize_points__gt=0
        ).select_related("challenge")
    ]
