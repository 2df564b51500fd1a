""" "First to N exceeded periods" challenges (ranked on the day N closed, a team's agents
adding up, open periods and failed gates not counting) and badges as challenge prizes
(frozen with the results, derived and withdrawn like every badge)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from rewards.models import AgentBadge, Badge, Challenge, ChallengePrize, PointsEntry
from rewards.selectors.challenges import challenge_standings
from rewards.services.challenges import ChallengeDraft, challenge_create, challenge_finalize
from rewards.services.reconcile import reconcile
from tests.html import texts_by_testid
from tests.scenarios import agent_in, judge, login, week_standards

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 2)  # a Monday, in the past


def first_to(teams, *, creator, target=3, standard=None, prizes=(100,), badge=None, **fields):
    fields.setdefault("starts_on", NOV)
    fields.setdefault("ends_on", NOV + timedelta(days=13))
    made = Challenge.objects.create(
        name="Quem chega primeiro",
        measure=Challenge.Measure.FIRST_TO,
        target=target,
        standard=standard,
        time_zone="Europe/Lisbon",
        created_by=creator,
        **fields,
    )
    made.teams.set(teams)
    for place, points in enumerate(prizes, start=1):
        ChallengePrize.objects.create(
            challenge=made, place=place, points=points, badge=badge if place == 1 else None
        )
    return made


def exceed(agent, standard, days, outcome="exceeded", **fields) -> None:
    for day in days:
        judge(agent, standard, NOV + timedelta(days=day), outcome, **fields)


@pytest.fixture
def daily():
    return week_standards(daily=True)["daily"]


def test_the_first_to_reach_n_wins_and_ties_on_the_same_day_share_the_rank(lisbon, bob, daily):
    ana, bea, caio, duda = (agent_in(lisbon, name) for name in ("ana", "bea", "caio", "duda"))
    exceed(ana, daily, [0, 2, 3])  # third on day 4
    exceed(bea, daily, [1, 2, 6, 7])  # third on day 7
    exceed(caio, daily, [0, 1, 3])  # third on day 4 too
    exceed(duda, daily, [0, 1])  # two: not there yet
    exceed(duda, daily, [2, 3], outcome="met")
    standings = challenge_standings(first_to([lisbon], creator=bob, prizes=(100, 50)))
    assert [
        (row.rank, row.name, row.reached_on, row.sample, row.prize_points) for row in standings
    ] == [
        *sorted(
            [
                (1, ana.display_name, NOV + timedelta(days=3), 3, 100),
                (1, caio.display_name, NOV + timedelta(days=3), 3, 100),
            ]
        ),
        (3, bea.display_name, NOV + timedelta(days=6), 4, 0),
        (None, duda.display_name, None, 2, 0),
    ]


def test_only_closed_periods_inside_the_window_count_and_failed_gates_never(lisbon, bob, daily):
    ana, bea = agent_in(lisbon, "ana"), agent_in(lisbon, "bea")
    exceed(ana, daily, [-1, 0, 1])  # the day before the window does not count
    exceed(bea, daily, [0, 1], gate_passed=False)
    exceed(bea, daily, [2])
    running = first_to([lisbon], creator=bob, target=2)
    assert [(row.name, row.sample) for row in challenge_standings(running)] == [
        (ana.display_name, 2),
        (bea.display_name, 1),
    ]
    from django.utils import timezone

    today = timezone.localdate()
    live = first_to(
        [lisbon], creator=bob, target=1, starts_on=today - timedelta(days=1), ends_on=today
    )
    judge(ana, daily, today, "exceeded")  # today's period is still open
    assert [row.sample for row in challenge_standings(live) if row.agent == ana] == [0]


def test_a_team_reaches_n_with_its_agents_periods_added_up(lisbon, sao_paulo, bob, daily):
    ana, bea = agent_in(lisbon, "ana"), agent_in(lisbon, "bea")
    paulo = agent_in(sao_paulo, "paulo2")
    exceed(ana, daily, [0])
    exceed(bea, daily, [1])  # Lisbon's second on day 2
    exceed(paulo, daily, [0, 4])  # Sao Paulo's second on day 5
    contest = first_to([lisbon, sao_paulo], creator=bob, target=2, kind=Challenge.Kind.TEAM)
    assert [(row.rank, row.name, row.reached_on) for row in challenge_standings(contest)] == [
        (1, "Lisbon", NOV + timedelta(days=1)),
        (2, "Sao Paulo", NOV + timedelta(days=4)),
    ]


def test_only_the_chosen_standards_periods_count(lisbon, bob):
    standards = week_standards(daily=True)
    ana = agent_in(lisbon, "ana")
    exceed(ana, standards["daily"], [0])
    judge(ana, standards["csat"], NOV, "exceeded")  # the week of Nov 2, another standard
    any_standard = first_to([lisbon], creator=bob, target=2)
    only_daily = first_to([lisbon], creator=bob, target=2, standard=standards["daily"])
    assert [row.sample for row in challenge_standings(any_standard)] == [2]
    assert [row.sample for row in challenge_standings(only_daily)] == [1]


@pytest.fixture
def trophy():
    return Badge.objects.create(
        name="Campeão do desafio",
        criterion=Badge.Criterion.CHALLENGE,
        threshold=1,
        points=25,
        repeat=Badge.Repeat.WEEK,
    )


def test_the_winners_badge_is_frozen_with_the_results_and_derived_once(
    lisbon, bob, daily, trophy, django_capture_on_commit_callbacks
):
    ana, bea = agent_in(lisbon, "ana"), agent_in(lisbon, "bea")
    exceed(ana, daily, [0, 1, 2])
    exceed(bea, daily, [3, 4, 5])
    contest = first_to([lisbon], creator=bob, prizes=(0, 40), badge=trophy)
    with django_capture_on_commit_callbacks(execute=True):
        assert challenge_finalize(challenge=contest)
    reconcile()
    reconcile()
    held = AgentBadge.objects.get(badge=trophy)
    assert held.agent == ana and held.earned_on == contest.ends_on
    assert held.evidence == "#1 in the challenge Quem chega primeiro"
    prizes = PointsEntry.objects.filter(kind__in=["badge", "challenge_prize"])
    assert list(prizes.filter(agent=ana).values_list("kind", "points")) == [("badge", 25)]
    assert list(prizes.filter(agent=bea).values_list("kind", "points")) == [("challenge_prize", 40)]
    notice = ana.user.notifications.get(key=f"challenge:{contest.pk}:prize")
    assert notice.message == "You finished #1 in Quem chega primeiro: the badge Campeão do desafio."


def test_a_badge_prize_whose_badge_is_switched_off_keeps_what_was_won(
    lisbon, bob, daily, trophy, django_capture_on_commit_callbacks
):
    ana = agent_in(lisbon, "ana")
    exceed(ana, daily, [0, 1, 2])
    with django_capture_on_commit_callbacks(execute=True):
        challenge_finalize(challenge=first_to([lisbon], creator=bob, prizes=(0,), badge=trophy))
    reconcile()
    Badge.objects.filter(pk=trophy.pk).update(active=False)
    reconcile()
    assert AgentBadge.objects.filter(agent=ana, badge=trophy).exists()
    assert PointsEntry.objects.filter(agent=ana, kind="badge").count() == 1


def draft(teams, **fields) -> ChallengeDraft:
    values = {
        "name": "Primeiro a 5",
        "description": "",
        "kind": "individual",
        "measure": "first_to",
        "metric": "",
        "channel": "",
        "minimum_sample": 1,
        "starts_on": date(2026, 12, 1),
        "ends_on": date(2026, 12, 31),
        "grace_days": 3,
        "teams": teams,
        "prizes": [],
        "target": 5,
    }
    return ChallengeDraft(**{**values, **fields})


def test_a_lead_creates_a_first_to_challenge_with_a_badge_for_the_podium(lisbon, bob, trophy):
    made = challenge_create(
        created_by=bob, draft=draft([lisbon], prizes=[200], badge=trophy, badge_places=3)
    )
    assert list(made.prizes.values_list("place", "points", "badge__name")) == [
        (1, 200, trophy.name),
        (2, 0, trophy.name),
        (3, 0, trophy.name),
    ]
    assert made.target == 5


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"target": None}, "target", "Give the number of exceeded periods to reach first."),
        (
            {"prizes": [100, 0]},
            "prizes",
            "Give up to 10 prizes, each of at least 1 point or with the badge.",
        ),
        (
            {"badge": "streak"},
            "badge",
            "Only an active badge of the criterion “a prize in a challenge”.",
        ),
    ],
)
def test_a_bad_first_to_or_badge_prize_is_refused_naming_the_field(
    lisbon, bob, fields, field, message
):
    if fields.get("badge") == "streak":
        fields["badge"] = Badge.objects.create(
            name="Sequência", criterion=Badge.Criterion.LIFETIME_POINTS, threshold=100
        )
    with pytest.raises(ValidationError) as error:
        challenge_create(created_by=bob, draft=draft([lisbon], **fields))
    assert error.value.message_dict[field] == [message]
    assert not Challenge.objects.exists()


def test_the_form_creates_a_first_to_challenge_and_names_a_missing_n(
    client, bob, lisbon, daily, trophy
):
    form = {
        "name": "Primeiro a 3",
        "kind": "individual",
        "measure": "first_to",
        "standard": daily.pk,
        "minimum_sample": 1,
        "teams": [lisbon.pk],
        "starts_on": "2026-12-07",
        "ends_on": "2026-12-20",
        "grace_days": 3,
        "prizes": "",
        "badge": trophy.pk,
        "badge_places": 1,
    }
    login(client, bob)
    missing = client.post(reverse("rewards:challenge-new"), form)
    assert missing.status_code == 400 and not Challenge.objects.exists()
    assert "Give the number of exceeded periods to reach first." in missing.content.decode()
    response = client.post(reverse("rewards:challenge-new"), {**form, "target": 3})
    made = Challenge.objects.get()
    assert response.status_code == 302
    assert (made.target, made.standard, made.prizes.get().badge) == (3, daily, trophy)


def test_the_page_shows_the_day_reached_the_progress_and_the_badge_prize(
    client, alice, bob, lisbon, daily, trophy
):
    exceed(alice, daily, [0, 1])
    bea = agent_in(lisbon, "bea")
    exceed(bea, daily, [0])
    contest = first_to([lisbon], creator=bob, target=2, standard=daily, badge=trophy)
    login(client, alice)
    page = client.get(reverse("rewards:challenge", args=[contest.pk]))
    assert page.status_code == 200
    own = texts_by_testid(page.content, "own-row")[0]
    assert "2026-11-03" in own and "badge Campeão do desafio" in own
    assert "1 of 2" in texts_by_testid(page.content, "standings")[0]
    assert "First to exceed Daily CSAT in 2 closed periods" in page.content.decode()
