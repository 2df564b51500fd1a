"""Badges, derived by reconciliation: earned when the evidence says so (once, or once per
window), paid through the ledger, withdrawn with a compensating entry when corrections take
the evidence away, and never paid twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewards.models import AgentBadge, Badge, Leaderboard, PointsEntry
from rewards.selectors import balance_mismatches, total_mismatches
from rewards.services.badges import nth_in_windows
from rewards.services.reconcile import reconcile
from rewards.windows import Span
from tests.factories import make_interactions, make_standard
from tests.rewards.helpers import award, board, judge

MONDAY = date(2026, 9, 7)


def week(n: int) -> date:
    return MONDAY + timedelta(days=7 * n)


def badge(**fields) -> Badge:
    fields.setdefault("name", "On fire")
    fields.setdefault("points", 25)
    return Badge.objects.create(**fields)


def badge_entries(agent) -> list[tuple[int, str]]:
    return list(
        PointsEntry.objects.filter(agent=agent, kind=PointsEntry.Kind.BADGE)
        .order_by("id")
        .values_list("points", "note")
    )


def test_the_nth_event_of_each_window_earns_it():
    events = [(date(2026, 10, 1), 2), (date(2026, 10, 20), 1), (date(2026, 11, 3), 1)]
    assert nth_in_windows(events, 3, Span.MONTH) == [(date(2026, 10, 1), date(2026, 10, 20))]
    assert nth_in_windows(events, 1, Span.MONTH) == [
        (date(2026, 10, 1), date(2026, 10, 1)),
        (date(2026, 11, 1), date(2026, 11, 3)),
    ]
    assert nth_in_windows(events, 4, Span.ALL) == [(date(2000, 1, 1), date(2026, 11, 3))]
    assert nth_in_windows(events, 5, Span.ALL) == []


@given(
    st.lists(st.tuples(st.dates(date(2026, 1, 1), date(2026, 12, 31)), st.integers(1, 3))),
    st.integers(1, 6),
)
def test_a_window_earns_at_most_once_and_only_with_n_events(events, n):
    won = nth_in_windows(events, n, Span.MONTH)
    assert len({start for start, _ in won}) == len(won)
    for start, day in won:
        in_window = [(d, c) for d, c in events if d.replace(day=1) == start]
        assert sum(c for d, c in in_window) >= n
        assert (
            sum(c for d, c in in_window if d < day) < n <= sum(c for d, c in in_window if d <= day)
        )


@pytest.mark.django_db
def test_a_streak_badge_is_earned_once_on_the_period_that_reached_it(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    fire = badge(criterion=Badge.Criterion.STREAK, standard=csat, threshold=3, icon="flame")
    for n, outcome in enumerate(["met", "exceeded", "insufficient_data", "met", "met"]):
        judge(alice, csat, week(n), outcome)
    reconcile()
    held = AgentBadge.objects.get(agent=alice, badge=fire)
    assert held.earned_on == week(3)
    assert "3 periods in a row" in held.evidence
    ((points, note),) = badge_entries(alice)
    assert (
        points == 25
        and note.startswith("Badge On fire: CSAT: 3 periods in a row")
        and note.endswith(": +25")
    )
    assert reconcile().entries == 0


@pytest.mark.django_db
def test_a_correction_that_breaks_the_streak_withdraws_the_badge_and_says_why(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    badge(criterion=Badge.Criterion.STREAK, standard=csat, threshold=3)
    for n in range(3):
        judge(alice, csat, week(n), "met")
    reconcile()
    judge(alice, csat, week(1), "missed")
    reconcile()
    assert [points for points, _ in badge_entries(alice)] == [25, -25]
    assert badge_entries(alice)[1][1] == "Badge withdrawn: On fire: its evidence changed: -25"
    assert not AgentBadge.objects.filter(agent=alice).exists()
    judge(alice, csat, week(1), "met")
    reconcile()
    assert [points for points, _ in badge_entries(alice)] == [25, -25, 25]
    assert balance_mismatches() == [] and total_mismatches() == []


@pytest.mark.django_db
def test_exceeded_badges_once_per_month_count_each_month_apart(alice):
    fcr = make_standard(name="FCR", metric="fcr", period="week", target=70)
    badge(criterion=Badge.Criterion.EXCEEDED, standard=fcr, threshold=2, repeat=Badge.Repeat.MONTH)
    # September: 7, 14 exceeded (earned on the 14th); October: 5 only once; November: 2, 9.
    for start in (
        date(2026, 9, 7),
        date(2026, 9, 14),
        date(2026, 10, 5),
        date(2026, 11, 2),
        date(2026, 11, 9),
    ):
        judge(alice, fcr, start, "exceeded")
    judge(alice, fcr, date(2026, 10, 12), "met")
    reconcile()
    assert list(
        AgentBadge.objects.filter(agent=alice)
        .order_by("earned_on")
        .values_list("window_start", "earned_on")
    ) == [(date(2026, 9, 1), date(2026, 9, 14)), (date(2026, 11, 1), date(2026, 11, 9))]
    assert len(badge_entries(alice)) == 2


@pytest.mark.django_db
def test_a_failed_quality_gate_does_not_count_as_exceeded(alice):
    fcr = make_standard(name="FCR", metric="fcr", period="week", target=70)
    badge(criterion=Badge.Criterion.EXCEEDED, standard=fcr, threshold=1)
    evaluation = judge(alice, fcr, week(0), "exceeded")
    evaluation.gate_passed = False
    evaluation.save(update_fields=["gate_passed"])
    reconcile()
    assert not AgentBadge.objects.exists()


@pytest.mark.django_db
def test_lifetime_points_badges_ignore_their_own_points_and_follow_corrections(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    badge(name="Centurion", criterion=Badge.Criterion.LIFETIME_POINTS, threshold=30, points=50)
    badge(name="Two hundred", criterion=Badge.Criterion.LIFETIME_POINTS, threshold=200, points=10)
    judge(alice, csat, week(0), "exceeded")  # 20
    judge(alice, csat, week(1), "met")  # 10: 30 reached on week 1
    reconcile()
    (held,) = AgentBadge.objects.filter(agent=alice)
    assert (held.badge.name, held.earned_on) == ("Centurion", week(1))
    judge(alice, csat, week(1), "missed")
    reconcile()
    assert [points for points, _ in badge_entries(alice)] == [50, -50]


@pytest.mark.django_db
def test_a_check_run_sees_the_badges_the_missing_points_would_earn(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    badge(name="First points", criterion=Badge.Criterion.LIFETIME_POINTS, threshold=10, points=5)
    judge(alice, csat, week(0), "met")
    result = reconcile(check=True)
    assert sorted(d.reference.split(":")[0] for d in result.discrepancies) == [
        "badge",
        "evaluation",
    ]
    assert PointsEntry.objects.count() == 0 and not AgentBadge.objects.exists()


@pytest.mark.django_db
def test_five_star_surveys_earn_the_badge_on_the_day_of_the_nth(alice, source):
    badge(name="Five stars", criterion=Badge.Criterion.FIVE_STAR_CSAT, threshold=3, points=15)
    make_interactions(alice, source=source, on=date(2026, 11, 2), count=2, csat=[5, 4])
    make_interactions(alice, source=source, on=date(2026, 11, 4), count=2, csat=[5, 5])
    reconcile()
    held = AgentBadge.objects.get(agent=alice)
    assert held.earned_on == date(2026, 11, 4) and "3 five-star CSAT surveys" in held.evidence


@pytest.mark.django_db
def test_top_places_of_a_closed_window_earn_it_and_ties_share_the_place(crowd):
    monthly = board(slug="geral", name="Geral", default_window="month")
    badge(
        name="Podium",
        criterion=Badge.Criterion.LEADERBOARD_TOP,
        leaderboard=monthly,
        threshold=2,
        repeat=Badge.Repeat.MONTH,
    )
    reconcile()
    holders = AgentBadge.objects.filter(badge__name="Podium")
    # November's 50, 40, 40: ranks 1, 2, 2.
    assert sorted(holders.values_list("agent__user__username", flat=True)) == ["ana", "bea", "caio"]
    assert {h.earned_on for h in holders} == {date(2026, 11, 30)}
    assert "#2 on Geral" in holders.get(agent__user__username="bea").evidence


@pytest.mark.django_db
def test_a_window_still_open_earns_no_top_place(lisbon, crowd):
    from django.utils import timezone

    board(slug="geral", name="Geral", default_window="month")
    award(crowd[5], 500, earned_on=timezone.localdate())
    badge(
        name="Podium",
        criterion=Badge.Criterion.LEADERBOARD_TOP,
        leaderboard=Leaderboard.objects.get(),
        threshold=1,
        repeat=Badge.Repeat.MONTH,
    )
    reconcile()
    assert list(AgentBadge.objects.values_list("agent__user__username", flat=True)) == ["ana"]


@pytest.mark.django_db
def test_a_badge_without_points_is_held_but_writes_no_entry(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    badge(criterion=Badge.Criterion.EXCEEDED, standard=csat, threshold=1, points=0)
    judge(alice, csat, week(0), "exceeded")
    reconcile()
    assert AgentBadge.objects.filter(agent=alice).count() == 1 and badge_entries(alice) == []


@pytest.mark.django_db
def test_changing_a_badges_points_moves_the_ledger_by_the_difference(alice):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    star = badge(criterion=Badge.Criterion.EXCEEDED, standard=csat, threshold=1)
    judge(alice, csat, week(0), "exceeded")
    reconcile()
    star.points = 40
    star.save(update_fields=["points"])
    reconcile()
    assert badge_entries(alice)[1] == (15, "Badge On fire now earns 40 points: +15")


@pytest.mark.django_db
def test_an_inactive_badge_keeps_what_it_earned_and_earns_nothing_new(alice, maria):
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    star = badge(criterion=Badge.Criterion.EXCEEDED, standard=csat, threshold=1)
    judge(alice, csat, week(0), "exceeded")
    reconcile()
    star.active = False
    star.save(update_fields=["active"])
    judge(maria, csat, week(0), "exceeded")
    reconcile()
    assert len(badge_entries(alice)) == 1 and badge_entries(maria) == []
    assert AgentBadge.objects.filter(agent=alice).exists()


@pytest.mark.django_db
def test_badges_name_what_their_criterion_needs():
    with pytest.raises(ValidationError) as error:
        Badge(name="x", criterion=Badge.Criterion.STREAK, threshold=3).full_clean()
    assert "standard" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        Badge(name="y", criterion=Badge.Criterion.LEADERBOARD_TOP, threshold=3).full_clean()
    assert "leaderboard" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        Badge(
            name="z", criterion=Badge.Criterion.LIFETIME_POINTS, threshold=3, repeat="month"
        ).full_clean()
    assert "repeat" in error.value.message_dict


@pytest.mark.django_db
def test_an_agent_sees_their_badges_and_streaks_at_home_and_on_their_points(client, alice):
    from django.urls import reverse

    from tests.html import texts_by_testid
    from tests.scenarios import login

    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    badge(
        criterion=Badge.Criterion.EXCEEDED, standard=csat, threshold=1, repeat="month", icon="star"
    )
    judge(alice, csat, week(0), "exceeded")
    judge(alice, csat, week(5), "exceeded")  # October: earned a second time
    reconcile()
    login(client, alice)
    home = client.get(reverse("home")).content
    (shelf,) = texts_by_testid(home, "badges")
    assert (
        shelf.startswith("On fire \N{MULTIPLICATION SIGN}2")
        and "CSAT exceeded in 1 period, the last in" in shelf
    )
    assert texts_by_testid(home, "home-streaks") == ["CSAT: 2 periods in a row"]
    points = client.get(reverse("rewards:my-points")).content
    assert texts_by_testid(points, "badges")[0].startswith("On fire \N{MULTIPLICATION SIGN}2")
    assert b"vendor/badges/star.svg" in points


BADGE_STEPS = st.lists(
    st.tuples(
        st.integers(0, 1),  # agent
        st.integers(0, 5),  # week
        st.one_of(st.sampled_from(["met", "exceeded", "missed", "insufficient_data"]), st.none()),
        st.booleans(),  # reconcile after this step
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=BADGE_STEPS)
def test_whatever_happened_badges_and_their_points_follow_the_evaluations(alice, maria, steps):
    from django.db.models import Sum

    from performance.models import Evaluation, ServiceStandard

    csat = ServiceStandard.objects.filter(name="CSAT").first() or make_standard(
        name="CSAT", metric="csat", period="week", target=80
    )
    if not Badge.objects.exists():
        badge(name="Streak", criterion=Badge.Criterion.STREAK, standard=csat, threshold=2, points=7)
        badge(
            name="Star",
            criterion=Badge.Criterion.EXCEEDED,
            standard=csat,
            threshold=2,
            repeat="month",
            points=11,
        )
        badge(name="Thirty", criterion=Badge.Criterion.LIFETIME_POINTS, threshold=30, points=5)
    agents = [alice, maria]
    for agent_index, n, outcome, reconcile_now in steps:
        if outcome is None:
            Evaluation.objects.filter(agent=agents[agent_index], period_start=week(n)).delete()
        else:
            judge(agents[agent_index], csat, week(n), outcome)
        if reconcile_now:
            reconcile()
    reconcile()
    for agent in agents:
        evaluations = (
            Evaluation.objects.filter(agent=agent).aggregate(total=Sum("points"))["total"] or 0
        )
        badges = sum(held.badge.points for held in AgentBadge.objects.filter(agent=agent))
        ledger = (
            PointsEntry.objects.filter(agent=agent).aggregate(total=Sum("points"))["total"] or 0
        )
        assert ledger == evaluations + badges
    assert balance_mismatches() == [] and total_mismatches() == []
    assert reconcile().entries == 0
    assert reconcile(check=True).discrepancies == []


@pytest.mark.django_db
def test_points_written_for_one_agent_in_a_closed_window_move_the_others_top_places(crowd):
    """A late correction for fabi (10 points in November) makes her first: the same scoped
    reconciliation withdraws ana's first place, whose own evaluations never changed."""
    from rewards.services.reconcile import ReconcileScope

    ana, fabi = crowd[0], crowd[5]
    badge(
        name="Winner",
        criterion=Badge.Criterion.LEADERBOARD_TOP,
        leaderboard=board(slug="geral", name="Geral", default_window="month"),
        threshold=1,
        repeat=Badge.Repeat.MONTH,
        points=25,
    )
    reconcile()
    assert list(AgentBadge.objects.values_list("agent", flat=True)) == [ana.pk]
    csat = make_standard(name="CSAT", metric="csat", period="week", target=80)
    judge(fabi, csat, date(2026, 11, 9), "exceeded", points=100)
    result = reconcile(ReconcileScope(agent_ids=(fabi.pk,)))
    assert list(AgentBadge.objects.values_list("agent", flat=True)) == [fabi.pk]
    assert [
        entry.points for entry in PointsEntry.objects.filter(agent=ana, kind="badge").order_by("id")
    ] == [
        25,
        -25,
    ]
    assert result.entries == 3  # fabi's points, ana's badge withdrawn, fabi's badge
    assert reconcile().entries == 0
