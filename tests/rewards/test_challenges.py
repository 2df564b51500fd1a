"""Challenges: standings on points or a metric (with a minimum sample), shared ranks,
teams by points per agent; final after the grace period, prizes paid once through the
ledger; created by leads for their teams; pages per role."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from performance.models import Notification
from rewards.models import Challenge, ChallengePrize, ChallengeResult, PointsEntry
from rewards.selectors.challenges import challenge_standings
from rewards.services.challenges import (
    ChallengeDraft,
    challenge_create,
    challenge_finalize,
    challenges_finalize_due,
)
from rewards.services.reconcile import reconcile
from tests.factories import make_interactions
from tests.html import texts_by_testid
from tests.rewards.helpers import award
from tests.scenarios import agent_in, login

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 2)


def challenge(teams, *, prizes=(100, 50), creator, **fields) -> Challenge:
    fields.setdefault("name", "Novembro")
    fields.setdefault("starts_on", NOV)
    fields.setdefault("ends_on", NOV + timedelta(days=13))
    fields.setdefault("time_zone", "Europe/Lisbon")
    made = Challenge.objects.create(created_by=creator, **fields)
    made.teams.set(teams)
    for place, points in enumerate(prizes, start=1):
        ChallengePrize.objects.create(challenge=made, place=place, points=points)
    return made


def ranks(standings) -> list[tuple[int | None, str, float | None]]:
    return [(row.rank, row.name, row.value) for row in standings]


def test_points_standings_share_ranks_and_count_only_the_window(lisbon, bob):
    ana, bea, caio = (agent_in(lisbon, name) for name in ("ana", "bea", "caio"))
    award(ana, 40, NOV)
    award(bea, 40, NOV + timedelta(days=3))
    award(caio, 10, NOV)
    award(caio, 500, NOV - timedelta(days=1))  # before the window
    standings = challenge_standings(challenge([lisbon], creator=bob))
    assert [(row.rank, row.value, row.prize_points) for row in standings] == [
        (1, 40.0, 100),
        (1, 40.0, 100),
        (3, 10.0, 0),
    ]


def test_a_metric_challenge_ranks_in_the_metrics_direction_above_the_minimum_sample(
    lisbon, source, bob
):
    ana, bea, caio = (agent_in(lisbon, name, source=source) for name in ("ana", "bea", "caio"))
    make_interactions(ana, source=source, on=NOV, count=3, handle_seconds=300)
    make_interactions(bea, source=source, on=NOV, count=3, handle_seconds=200)
    make_interactions(caio, source=source, on=NOV, count=1, handle_seconds=100)
    aht = challenge([lisbon], creator=bob, measure="metric", metric="aht", minimum_sample=2)
    assert [(row.rank, row.name) for row in challenge_standings(aht)] == [
        (1, bea.display_name),
        (2, ana.display_name),
        (None, caio.display_name),  # one interaction: below the minimum
    ]


def test_team_challenges_rank_points_per_active_agent(lisbon, sao_paulo, bob):
    big = [agent_in(lisbon, f"l{n}") for n in range(4)]
    small = [agent_in(sao_paulo, f"s{n}") for n in range(2)]
    for agent in big:
        award(agent, 30, NOV)  # 30 per agent
    for agent in small:
        award(agent, 40, NOV)  # 40 per agent: fewer agents, more each
    teams = challenge([lisbon, sao_paulo], creator=bob, kind="team", minimum_sample=2)
    assert ranks(challenge_standings(teams)) == [(1, "Sao Paulo", 40.0), (2, "Lisbon", 30.0)]


def test_finalizing_freezes_the_results_and_pays_each_prize_once(
    lisbon, bob, django_capture_on_commit_callbacks
):
    ana, bea = agent_in(lisbon, "ana"), agent_in(lisbon, "bea")
    award(ana, 40, NOV)
    award(bea, 20, NOV)
    contest = challenge([lisbon], creator=bob)
    with django_capture_on_commit_callbacks(execute=True):
        assert challenge_finalize(challenge=contest) is True
    assert challenge_finalize(challenge=contest) is False
    prizes = PointsEntry.objects.filter(kind="challenge_prize").order_by("agent__user__username")
    assert [(entry.agent, entry.points) for entry in prizes] == [(ana, 100), (bea, 50)]
    assert prizes[0].note == "Challenge Novembro: finished #1: +100"
    award(bea, 500, NOV)  # late points after the results are final re-rank nothing
    reconcile()
    assert PointsEntry.objects.filter(kind="challenge_prize").count() == 2
    contest.refresh_from_db()
    assert [row.name for row in challenge_standings(contest)] == [
        ana.display_name,
        bea.display_name,
    ]
    assert Notification.objects.filter(user=ana.user, key=f"challenge:{contest.pk}:prize").exists()


def test_beat_finalizes_only_after_the_grace_period(lisbon, bob, alice):
    from django.utils import timezone

    today = timezone.localdate()
    in_grace = challenge(
        [lisbon],
        creator=bob,
        starts_on=today - timedelta(days=9),
        ends_on=today - timedelta(days=2),
    )
    over = challenge(
        [lisbon],
        creator=bob,
        starts_on=today - timedelta(days=20),
        ends_on=today - timedelta(days=4),
    )
    assert challenges_finalize_due() == 1
    in_grace.refresh_from_db()
    over.refresh_from_db()
    assert in_grace.finalized_at is None and over.finalized_at is not None
    assert ChallengeResult.objects.filter(challenge=over).exists()


def draft(teams, **fields) -> ChallengeDraft:
    values = {
        "name": "Dezembro",
        "description": "",
        "kind": "individual",
        "measure": "points",
        "metric": "",
        "channel": "",
        "minimum_sample": 1,
        "starts_on": date(2026, 12, 1),
        "ends_on": date(2026, 12, 31),
        "grace_days": 3,
        "teams": teams,
        "prizes": [300, 100],
    }
    return ChallengeDraft(**{**values, **fields})


def test_a_lead_creates_challenges_for_the_teams_they_lead_only(lisbon, sao_paulo, bob, dave):
    made = challenge_create(created_by=bob, draft=draft([lisbon]))
    assert made.time_zone == "Europe/Lisbon" and list(
        made.prizes.values_list("points", flat=True)
    ) == [300, 100]
    with pytest.raises(ValidationError) as error:
        challenge_create(created_by=bob, draft=draft([lisbon, sao_paulo]))
    assert error.value.message_dict["teams"] == ["You lead none of these teams: Sao Paulo."]
    assert challenge_create(created_by=dave, draft=draft([sao_paulo])).pk


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"ends_on": date(2026, 11, 30)}, "ends_on", "The last day comes before the first."),
        ({"ends_on": date(2027, 3, 31)}, "ends_on", "A challenge lasts at most 92 days."),
        ({"measure": "metric"}, "metric", "Choose the metric the challenge ranks on."),
        ({"teams": []}, "teams", "Choose the teams taking part."),
    ],
)
def test_a_bad_challenge_is_refused_naming_the_field(lisbon, bob, fields, field, message):
    with pytest.raises(ValidationError) as error:
        challenge_create(created_by=bob, draft=draft(fields.pop("teams", [lisbon]), **fields))
    assert error.value.message_dict[field] == [message]
    assert not Challenge.objects.exists()


def test_an_agent_cannot_create_a_challenge(alice, lisbon):
    with pytest.raises(ValidationError):
        challenge_create(created_by=alice.user, draft=draft([lisbon]))


@pytest.mark.parametrize(
    ("who", "sees"),
    [("alice", True), ("paulo", False), ("bob", True), ("carol", False), ("dave", True)],
)
def test_who_sees_a_challenge(client, request, alice, paulo, bob, carol, dave, lisbon, who, sees):
    contest = challenge([lisbon], creator=bob)
    award(alice, 30, NOV)
    login(client, request.getfixturevalue(who))
    listing = client.get(reverse("rewards:challenges"))
    assert listing.status_code == 200 and (b"Novembro" in listing.content) == sees
    detail = client.get(reverse("rewards:challenge", args=[contest.pk]))
    assert detail.status_code == (200 if sees else 404)
    if sees:
        assert texts_by_testid(detail.content, "standings")
        assert bool(texts_by_testid(detail.content, "own-row")) == (who == "alice")


def test_anonymous_is_sent_to_log_in(client, lisbon, bob):
    contest = challenge([lisbon], creator=bob)
    for url in (
        reverse("rewards:challenges"),
        reverse("rewards:challenge", args=[contest.pk]),
        reverse("rewards:challenge-new"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_lead_creates_one_from_the_form_and_an_agent_cannot(
    client, alice, bob, lisbon, sao_paulo
):
    form = {
        "name": "Sprint de CSAT",
        "kind": "individual",
        "measure": "metric",
        "metric": "csat",
        "minimum_sample": 30,
        "teams": [lisbon.pk],
        "starts_on": "2026-12-07",
        "ends_on": "2026-12-20",
        "grace_days": 3,
        "prizes": "300, 200, 100",
    }
    login(client, alice)
    assert client.get(reverse("rewards:challenge-new")).status_code == 404
    assert client.post(reverse("rewards:challenge-new"), form).status_code == 404
    login(client, bob)
    refused = client.post(reverse("rewards:challenge-new"), {**form, "teams": [sao_paulo.pk]})
    assert refused.status_code == 400 and not Challenge.objects.exists()
    bad = client.post(reverse("rewards:challenge-new"), {**form, "prizes": "300, lots"})
    assert (
        bad.status_code == 400
        and "Write whole numbers separated by commas." in bad.content.decode()
    )
    response = client.post(reverse("rewards:challenge-new"), form)
    made = Challenge.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "rewards:challenge", args=[made.pk]
    )
    assert (made.metric, made.minimum_sample, made.prizes.count()) == ("csat", 30, 3)


@pytest.mark.parametrize(
    ("who", "code"), [("alice", 200), ("paulo", 404), ("bob", 200), ("carol", 404), ("dave", 200)]
)
def test_the_challenge_api_is_scoped_like_the_pages(
    client, request, alice, paulo, bob, lisbon, who, code
):
    contest = challenge([lisbon], creator=bob)
    award(alice, 30, NOV)
    login(client, request.getfixturevalue(who))
    listed = client.get(reverse("api-challenges")).json()
    assert [item["name"] for item in listed] == (["Novembro"] if code == 200 else [])
    response = client.get(reverse("api-challenge", args=[contest.pk]))
    assert response.status_code == code
    if code == 200:
        body = response.json()
        assert [(p["place"], p["points"], p["badge"]) for p in body["challenge"]["prizes"]] == [
            (1, 100, None),
            (2, 50, None),
        ]
        assert body["standings"][0] == {
            "rank": 1,
            "agent": alice.pk,
            "team": None,
            "name": alice.display_name,
            "value": 30.0,
            "sample": 0,
            "prize_points": 100,
            "prize_badge": None,
            "reached_on": None,
        }


def test_the_challenge_api_needs_a_login(client):
    assert client.get(reverse("api-challenges")).status_code == 403


def test_a_final_challenge_cannot_be_edited_in_admin(client, dave, lisbon, bob, alice):
    contest = challenge([lisbon], creator=bob)
    challenge_finalize(challenge=contest)
    client.force_login(dave)
    page = client.get(reverse("admin:rewards_challenge_change", args=[contest.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_a_prize_in_the_points_history_links_to_its_challenge(
    client, lisbon, bob, django_capture_on_commit_callbacks
):
    ana = agent_in(lisbon, "ana")
    award(ana, 40, NOV)
    contest = challenge([lisbon], creator=bob)
    with django_capture_on_commit_callbacks(execute=True):
        challenge_finalize(challenge=contest)
    login(client, ana)
    body = client.get(reverse("rewards:my-points")).content.decode()
    assert f'href="{reverse("rewards:challenge", args=[contest.pk])}">Challenge Novembro' in body
