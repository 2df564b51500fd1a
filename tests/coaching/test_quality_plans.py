"""Review plans (issue 10 §3): each closed period, so many interactions per agent and channel
drawn at random from the period's facts, never one already reviewed or drawn; assigned to the
plan's analysts by open work, due after the period; a queue per analyst; progress per team."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching.models import (
    QAAssignment,
    QAForm,
    QAItem,
    QAPlan,
    QAPlanChannel,
    QAReview,
    QASection,
)
from coaching.selectors.quality import analyst_queue, plan_progress
from coaching.services.quality import review_finish, review_start, version_rules
from coaching.services.quality_plans import assignment_review, plan_sample, plans_sample_due
from performance.models import Channel, Interaction
from performance.periods import period_containing
from tests.factories import make_interactions, make_quality_analyst
from tests.scenarios import agent_in

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 10, 5)
NAMES = itertools.count()
WEEK = period_containing(MONDAY, "week")


@pytest.fixture
def channels(db):
    for code in ("phone", "chat"):
        Channel.objects.get_or_create(code=code, defaults={"name": code})


@pytest.fixture
def monitor(sao_paulo):
    return make_quality_analyst(sao_paulo, username="monica")


@pytest.fixture
def plan(sao_paulo, channels, monitor):
    plan = QAPlan.objects.create(name="Semanal", period="week", due_days=5)
    plan.teams.add(sao_paulo)
    QAPlanChannel.objects.create(plan=plan, channel_id="phone", per_agent=2)
    QAPlanChannel.objects.create(plan=plan, channel_id="chat", per_agent=1)
    return plan


@pytest.fixture
def bia(sao_paulo, source):
    return agent_in(sao_paulo, "bia", source=source, external_id="B1")


@pytest.fixture
def week_facts(paulo, bia, source):
    facts = {}
    for agent in (paulo, bia):
        facts[agent.pk] = [
            *make_interactions(agent, source=source, on=MONDAY, count=5, channel="phone"),
            *make_interactions(
                agent, source=source, on=MONDAY + timedelta(days=2), count=3, channel="chat"
            ),
            *make_interactions(agent, source=source, on=MONDAY, count=2, channel="email"),
        ]
    return facts


def one_item_form() -> QAForm:
    form = QAForm.objects.create(name="Todos")
    section = QASection.objects.create(form=form, title="Tudo")
    QAItem.objects.create(section=section, text="Saudação", weight=1)
    return form


def drawn(plan: QAPlan) -> list[QAAssignment]:
    return list(plan.assignments.order_by("agent_id", "channel", "interaction_id"))


def test_a_plan_draws_its_mix_per_agent_from_the_closed_period(plan, week_facts, paulo, bia):
    result = plan_sample(plan, WEEK)
    assert result.drawn == 6
    for agent in (paulo, bia):
        mine = [a for a in drawn(plan) if a.agent_id == agent.pk]
        assert sorted(a.channel for a in mine) == ["chat", "phone", "phone"]
        assert {a.interaction_id for a in mine} <= {f.pk for f in week_facts[agent.pk]}
    assert {a.due_on for a in drawn(plan)} == {WEEK.end + timedelta(days=4)}


def test_drawing_again_draws_nothing_twice_and_tops_up_late_facts(plan, paulo, source):
    make_interactions(paulo, source=source, on=MONDAY, count=1, channel="phone")
    assert plan_sample(plan, WEEK).drawn == 1  # one phone fact: one of two
    assert plan_sample(plan, WEEK).drawn == 0
    make_interactions(paulo, source=source, on=MONDAY + timedelta(days=1), count=3, channel="phone")
    assert plan_sample(plan, WEEK).drawn == 1  # topped up to two
    assert len({a.interaction_id for a in drawn(plan)}) == 2


def test_reviewed_interactions_are_never_drawn(plan, paulo, source, monitor):
    form = one_item_form()
    phone_calls = make_interactions(paulo, source=source, on=MONDAY, count=2, channel="phone")
    review_start(reviewer=monitor, interaction_id=phone_calls[0].pk, form=form)
    plan_sample(plan, WEEK)
    assert [a.interaction_id for a in drawn(plan)] == [phone_calls[1].pk]


def test_another_plan_never_draws_what_one_drew(plan, sao_paulo, week_facts):
    other = QAPlan.objects.create(name="Outro", period="week")
    other.teams.add(sao_paulo)
    QAPlanChannel.objects.create(plan=other, channel_id="phone", per_agent=10)
    plan_sample(plan, WEEK)
    plan_sample(other, WEEK)
    first = {a.interaction_id for a in drawn(plan)}
    second = {a.interaction_id for a in drawn(other)}
    assert not first & second and len(second) == 2 * 5 - 4  # the phone facts left


def test_a_period_under_way_is_not_drawn(plan, paulo, source):
    from django.utils import timezone

    today = timezone.localdate()
    make_interactions(paulo, source=source, on=today, count=3, channel="phone")
    assert plan_sample(plan, period_containing(today, "week")).drawn == 0


def test_no_analyst_no_draw(plan, week_facts, monitor, sao_paulo):
    sao_paulo.quality_analysts.remove(monitor)
    result = plan_sample(plan, WEEK)
    assert (result.drawn, result.teams_without_analyst) == (0, 1)


def test_work_goes_to_the_analyst_with_the_least_open(plan, week_facts, sao_paulo, monitor):
    other = make_quality_analyst(sao_paulo, username="otavio")
    plan_sample(plan, WEEK)
    loads = {user: QAAssignment.objects.filter(analyst=user).count() for user in (monitor, other)}
    assert loads == {monitor: 3, other: 3}


def test_the_plans_analysts_must_review_the_team(plan, week_facts, alice, sao_paulo):
    outsider = make_quality_analyst(username="lina")  # reviews no team
    plan.analysts.add(outsider)
    assert plan_sample(plan, WEEK).teams_without_analyst == 1


def test_the_nightly_draw_takes_the_last_closed_periods(plan, paulo, source):
    last_monday = date(2026, 11, 30)
    make_interactions(paulo, source=source, on=last_monday, count=2, channel="phone")
    make_interactions(
        paulo, source=source, on=last_monday - timedelta(days=7), count=2, channel="phone"
    )
    assert plans_sample_due(today=date(2026, 12, 7)) == 4
    assert plans_sample_due(today=date(2026, 12, 7)) == 0


def test_the_analysts_queue_and_the_review_it_starts(plan, week_facts, monitor, sao_paulo):
    one_item_form()
    plan_sample(plan, WEEK)
    queue = list(analyst_queue(monitor))
    assert len(queue) == 6
    review = assignment_review(queue[0], reviewer=monitor)
    assert assignment_review(queue[0], reviewer=monitor) == review  # the same draft again
    other = make_quality_analyst(sao_paulo, username="otavio")
    with pytest.raises(ValidationError):
        assignment_review(queue[1], reviewer=other)
    rules = version_rules(review.version)
    review_finish(review, reviewer=monitor, answers={rules[0].key: ("yes", "")})
    assert len(analyst_queue(monitor)) == 5


def test_progress_per_team_and_period(plan, week_facts, monitor, carol, bob):
    one_item_form()
    plan_sample(plan, WEEK)
    queue = list(analyst_queue(monitor))
    review = assignment_review(queue[0], reviewer=monitor)
    review_finish(
        review, reviewer=monitor, answers={version_rules(review.version)[0].key: ("yes", "")}
    )
    rows = {
        row.period.start: row for row in plan_progress(carol, today=WEEK.end + timedelta(days=10))
    }
    row = rows[WEEK.start]
    assert (row.planned, row.drawn, row.done, row.overdue) == (6, 6, 1, 5)
    assert plan_progress(bob, today=WEEK.end) == []  # another team's lead


class TestPages:
    def test_the_queue_on_the_monitoria_and_starting_from_it(
        self, client, plan, week_facts, monitor
    ):
        one_item_form()
        plan_sample(plan, WEEK)
        client.force_login(monitor)
        html = client.get(reverse("coaching:quality")).content.decode()
        assert 'data-testid="queue"' in html and "overdue" in html
        assignment = analyst_queue(monitor).first()
        response = client.post(reverse("coaching:assignment-review", args=[assignment.pk]))
        review = QAReview.objects.get()
        assert response.url == reverse("coaching:review", args=[review.pk])

    def test_someone_elses_assignment_is_not_found(self, client, plan, week_facts, carol, paulo):
        plan_sample(plan, WEEK)
        assignment = QAAssignment.objects.first()
        for user in (carol, paulo.user):
            client.force_login(user)
            assert (
                client.post(reverse("coaching:assignment-review", args=[assignment.pk])).status_code
                == 404
            )
        assert not QAReview.objects.exists()

    def test_the_progress_page_per_role(
        self, client, plan, week_facts, monitor, carol, bob, dave, paulo
    ):
        plan_sample(plan, WEEK)
        url = reverse("coaching:quality-plans")
        for user, sees in [(monitor, True), (carol, True), (dave, True), (bob, False)]:
            client.force_login(user)
            html = client.get(url).content.decode()
            assert ("Semanal" in html) is sees, user
        client.force_login(paulo.user)
        assert client.get(url).status_code == 404


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=3),
    per_agent=st.integers(min_value=1, max_value=4),
    runs=st.integers(min_value=1, max_value=3),
)
def test_sampling_never_picks_the_same_interaction_twice(
    sao_paulo, source, channels, monitor, counts, per_agent, runs
):
    QAAssignment.objects.all().delete()
    QAPlan.objects.all().delete()
    Interaction.objects.all().delete()
    plans = []
    for index in range(2):
        plan = QAPlan.objects.create(name=f"P{index}", period="week")
        plan.teams.add(sao_paulo)
        QAPlanChannel.objects.create(plan=plan, channel_id="phone", per_agent=per_agent)
        plans.append(plan)
    agents = [agent_in(sao_paulo, f"h{next(NAMES)}") for _ in counts]
    for agent, count in zip(agents, counts, strict=True):
        make_interactions(agent, source=source, on=MONDAY, count=count, channel="phone")
    for _ in range(runs):
        for plan in plans:
            plan_sample(plan, WEEK)
    ids = list(QAAssignment.objects.values_list("interaction_id", flat=True))
    assert len(ids) == len(set(ids))
    for agent, count in zip(agents, counts, strict=True):
        assert QAAssignment.objects.filter(agent=agent).count() == min(count, 2 * per_agent)


class TestApi:
    def test_plans_with_progress_per_role(
        self, client, plan, week_facts, monitor, carol, bob, paulo
    ):
        plan_sample(plan, WEEK)
        client.force_login(carol)
        body = client.get(reverse("api-quality-plans"), {"periods": 26}).json()
        assert [p["name"] for p in body["plans"]] == ["Semanal"]
        assert {p["channel"]: p["per_agent"] for p in body["plans"][0]["mix"]} == {
            "phone": 2,
            "chat": 1,
        }
        row = next(r for r in body["progress"] if r["period_start"] == WEEK.start.isoformat())
        assert (row["planned"], row["drawn"]) == (6, 6)
        client.force_login(bob)
        assert client.get(reverse("api-quality-plans")).json()["plans"] == []
        assert client.get(reverse("api-quality-plans"), {"periods": 99}).status_code == 400
        client.force_login(paulo.user)
        assert client.get(reverse("api-quality-plans")).status_code == 404

    def test_the_queue_and_starting_from_it(self, client, plan, week_facts, monitor, carol):
        one_item_form()
        plan_sample(plan, WEEK)
        client.force_login(monitor)
        queue = client.get(reverse("api-quality-queue")).json()["results"]
        assert len(queue) == 6 and queue[0]["review"] is None
        started = client.post(reverse("api-quality-assignment-review", args=[queue[0]["id"]]))
        assert started.status_code == 200 and started.json()["status"] == "draft"
        client.force_login(carol)
        assert client.get(reverse("api-quality-queue")).json()["results"] == []
        assert (
            client.post(reverse("api-quality-assignment-review", args=[queue[1]["id"]])).status_code
            == 404
        )
