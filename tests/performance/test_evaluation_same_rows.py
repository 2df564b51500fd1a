"""Evaluations are the same rows whichever path computed them (DESIGN invariant 3).

A feed batch's re-score, a rule change's re-score, the nightly run and `manage.py evaluate`
each score whole cells (standard x period) and leave in them exactly the rows a fresh
evaluation into an empty table gives; rows a cell no longer produces go in the same run,
counted on its EvaluationChange.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from performance.models import (
    Agent,
    Evaluation,
    EvaluationChange,
    FeedBatch,
    FeedBatchTouch,
    Interaction,
    ServiceStandard,
    StandardVersion,
    TeamMembership,
)
from performance.periods import period_containing, periods_between
from performance.services.evaluation import evaluate_periods, evaluate_touched_by_batch
from performance.services.evaluation.engine import standard_plans
from performance.services.organisation import (
    agent_membership_open,
    agent_move_team,
    team_today,
)
from performance.services.standards import standard_save
from performance.tasks import evaluate_recent_periods
from tests.factories import InteractionFactory, make_standard
from tests.performance.helpers import ingest_text
from tests.scenarios import agent_in

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 28)  # a Wednesday
FIELDS = (
    "agent_id",
    "standard_id",
    "period_start",
    "period_end",
    "version_id",
    "value",
    "sample_size",
    "outcome",
    "gate_passed",
    "points",
)


def rows(**filters) -> set[tuple]:
    return set(Evaluation.objects.filter(**filters).values_list(*FIELDS))


class _Rollback(Exception):
    pass


def fresh_rows(*, since: date, until: date) -> set[tuple]:
    """What a fresh evaluation of [since, until] into an empty table gives (rolled back)."""
    try:
        with transaction.atomic():
            Evaluation.objects.all().delete()
            evaluate_periods(since=since, until=until)
            result = rows()
            raise _Rollback
    except _Rollback:
        return result


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


# --- the two examples ---------------------------------------------------------------


def test_a_batch_writes_every_agents_row_of_its_periods_so_evaluate_adds_none(
    alice, paulo, source, tmp_path, django_capture_on_commit_callbacks
):
    daily = make_standard(metric="csat", period="day")
    weekly = make_standard(metric="volume", period="week")
    with django_capture_on_commit_callbacks(execute=True):
        ingest_text(
            source,
            f"external_id,agent,channel,started_at,csat\nx1,A1,chat,{at(DAY).isoformat()},5\n",
            tmp_path,
        )
    week = period_containing(DAY, "week").start
    # paulo had no contacts: insufficient data in both periods, written by the batch's run.
    assert set(
        Evaluation.objects.filter(agent=paulo).values_list("standard_id", "period_start", "outcome")
    ) == {(daily.id, DAY, "insufficient_data"), (weekly.id, week, "insufficient_data")}
    changes = EvaluationChange.objects.count()

    call_command("evaluate", "--since", DAY.isoformat(), "--until", DAY.isoformat(), "--json")
    assert EvaluationChange.objects.count() == changes  # nothing created, updated or deleted
    assert rows() == fresh_rows(since=DAY, until=DAY)


def test_rows_a_standard_no_longer_produces_go_in_the_same_run_and_on_its_change(
    alice, paulo, lisbon, source
):
    standard = make_standard(metric="volume", period="day")
    InteractionFactory(agent=paulo, source=source, started_at=at(DAY))
    evaluate_periods(since=DAY, until=DAY)
    assert Evaluation.objects.filter(agent=paulo).exists()

    standard.teams.set([lisbon])
    run = evaluate_periods(since=DAY, until=DAY)
    assert not Evaluation.objects.filter(agent=paulo).exists()
    assert (run.created, run.updated, run.deleted) == (0, 0, 1)
    change = EvaluationChange.objects.get(id=run.change_id)
    assert (change.deleted, change.first_period_start, change.last_period_start) == (1, DAY, DAY)
    assert rows() == fresh_rows(since=DAY, until=DAY)


class TestStaleRows:
    """Each way a row stops being produced; each run deletes it, in the cells it scores."""

    @pytest.fixture
    def scored(self, alice, paulo):
        standard = make_standard(metric="volume", period="day")
        evaluate_periods(since=DAY, until=DAY + timedelta(days=1))
        return standard

    def test_the_standards_teams_changed_then_agents_moved(
        self, scored, alice, paulo, lisbon, sao_paulo
    ):
        scored.teams.set([lisbon])
        assert evaluate_periods(since=DAY, until=DAY + timedelta(days=1)).deleted == 2
        assert set(Evaluation.objects.values_list("agent_id", flat=True)) == {alice.id}
        alice.team, paulo.team = sao_paulo, lisbon
        alice.save()
        paulo.save()
        run = evaluate_periods(since=DAY, until=DAY + timedelta(days=1))
        assert (run.created, run.deleted) == (2, 2)
        assert set(Evaluation.objects.values_list("agent_id", flat=True)) == {paulo.id}

    def test_an_agent_deactivated_without_data(self, scored, paulo, source):
        InteractionFactory(agent=paulo, source=source, started_at=at(DAY))
        paulo.active = False
        paulo.save()
        run = evaluate_periods(since=DAY, until=DAY + timedelta(days=1))
        # Kept where he has data, gone where he has none.
        assert run.deleted == 1
        assert list(
            Evaluation.objects.filter(agent=paulo).values_list("period_start", flat=True)
        ) == [DAY]

    def test_the_active_dates_narrowed(self, scored):
        scored.active_until = DAY
        standard_save(standard=scored)
        run = evaluate_periods(since=DAY, until=DAY + timedelta(days=1))
        assert run.deleted == 2
        assert set(Evaluation.objects.values_list("period_start", flat=True)) == {DAY}

    def test_the_period_kind_changed(self, scored):
        # standard_save refuses this once evaluated (clone instead); a change that reached
        # the table another way (a data migration, SQL) still leaves no row of the old kind.
        ServiceStandard.objects.filter(pk=scored.pk).update(period="week")
        run = evaluate_periods(since=DAY, until=DAY + timedelta(days=1))
        assert (run.created, run.deleted) == (2, 4)
        assert set(Evaluation.objects.values_list("period_start", flat=True)) == {
            period_containing(DAY, "week").start
        }

    def test_a_batch_deletes_them_in_the_periods_it_touched_only(
        self, scored, alice, paulo, lisbon, source, tmp_path
    ):
        scored.teams.set([lisbon])
        batch = ingest_text(
            source,
            f"external_id,agent,channel,started_at\nx1,A1,chat,{at(DAY).isoformat()}\n",
            tmp_path,
        )
        run = evaluate_touched_by_batch(batch_id=batch.id)
        assert (run.updated, run.deleted) == (1, 1)  # alice's count, paulo's row of that day
        assert set(
            Evaluation.objects.filter(agent=paulo).values_list("period_start", flat=True)
        ) == {DAY + timedelta(days=1)}  # the other day is not the batch's to judge
        change = EvaluationChange.objects.get(id=run.change_id)
        assert (change.batch_id, change.agent_ids, change.deleted) == (
            batch.id,
            sorted([alice.id, paulo.id]),
            1,
        )

    def test_runs_leave_other_periods_and_standards_alone(self, scored, alice, paulo):
        monthly = make_standard(metric="volume", period="month")
        evaluate_periods(since=DAY, until=DAY + timedelta(days=1))
        before = rows()
        # A day of the month the day standard was never scored for: the month is scored
        # whole, the day standard's other days are not touched.
        run = evaluate_periods(since=DAY + timedelta(days=2), until=DAY + timedelta(days=2))
        assert run.deleted == 0
        assert before <= rows()
        assert Evaluation.objects.filter(standard=monthly).count() == 2


def test_a_gates_rule_change_rescores_the_standards_it_gates(
    alice, source, django_capture_on_commit_callbacks
):
    yesterday = timezone.localdate() - timedelta(days=1)
    InteractionFactory(
        agent=alice, source=source, started_at=at(yesterday), csat=3, handle_seconds=100
    )
    with django_capture_on_commit_callbacks(execute=True):
        quality = make_standard(metric="csat", target=0, min_sample=1, active_from=yesterday)
        speed = make_standard(
            metric="aht", target=300, min_sample=1, quality_gate=quality, active_from=yesterday
        )
    assert Evaluation.objects.get(standard=speed).points == 10
    quality.target = 50
    with django_capture_on_commit_callbacks(execute=True):
        standard_save(standard=quality, effective_from=yesterday)
    gated = Evaluation.objects.get(standard=speed)
    assert (gated.gate_passed, gated.points) == (False, 0)
    assert rows() == fresh_rows(since=yesterday, until=yesterday)


# --- the property: any sequence of changes and the paths that follow them ---------------------

AGENTS = ("A1", "P1", "L1")
CHANNELS = ("phone", "chat")

new_rows = st.lists(
    st.tuples(
        st.sampled_from(AGENTS),
        st.integers(1, 2),  # days before today
        st.integers(6, 20),  # UTC hour: the same local day in Lisbon and Sao Paulo
        st.sampled_from(CHANNELS),
        st.one_of(st.none(), st.integers(1, 5)),
        st.one_of(st.none(), st.integers(0, 900)),
    ),
    min_size=1,
    max_size=6,
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("ingest"), new_rows),
        st.tuples(st.just("correct"), st.integers(0, 50), st.integers(1, 5), st.booleans()),
        st.tuples(st.just("rule"), st.integers(0, 3), st.sampled_from([40, 60, 80])),
        st.tuples(
            st.just("teams"),
            st.integers(0, 3),
            st.sampled_from([(), ("lisbon",), ("sao_paulo",), ("lisbon", "sao_paulo")]),
            st.booleans(),
        ),
        st.tuples(
            st.just("dates"),
            st.integers(0, 3),
            st.integers(0, 1),
            st.sampled_from([None, 0, 1]),
            st.booleans(),
        ),
        st.tuples(st.just("move"), st.sampled_from(AGENTS), st.booleans()),
        st.tuples(st.just("active"), st.sampled_from(AGENTS), st.booleans()),
        st.tuples(
            st.just("cli"),
        ),
    ),
    max_size=8,
)


class World:
    """Three agents in two teams, four standards (one gated), facts of the last two days."""

    def __init__(self, *, teams, agents, source, tmp_path, capture) -> None:
        self.teams, self.agents, self.source = teams, agents, source
        self.tmp_path, self.capture = tmp_path, capture
        self.today = timezone.localdate()
        self.since, self.until = self.today - timedelta(days=2), self.today - timedelta(days=1)
        self.files = 0
        self.external_ids: list[str] = []
        for model in (Evaluation, EvaluationChange, FeedBatchTouch, Interaction, FeedBatch):
            model.objects.all().delete()
        StandardVersion.objects.update(quality_gate=None)
        ServiceStandard.objects.update(quality_gate=None)
        StandardVersion.objects.all().delete()
        ServiceStandard.objects.all().delete()
        # Each example starts from one membership per agent: moves of the last one are undone.
        TeamMembership.objects.all().delete()
        for agent, team in zip(agents.values(), ("lisbon", "sao_paulo", "lisbon"), strict=True):
            Agent.objects.filter(id=agent.id).update(team=teams[team], active=True)
            agent.refresh_from_db()
            agent_membership_open(agent=agent)
        # Created outside a captured commit: no run has scored them yet.
        quality = make_standard(metric="csat", period="week", target=60, min_sample=1)
        self.standards = [
            make_standard(metric="csat", period="day", target=60, min_sample=2),
            quality,
            make_standard(
                metric="aht", period="week", channel="phone", target=300, quality_gate=quality
            ),
            make_standard(metric="volume", period="month", channel="chat", target=2),
        ]
        for standard in self.standards:
            ServiceStandard.objects.filter(id=standard.id).update(active_from=self.since)
            standard.refresh_from_db()
            standard.versions.update(effective_from=self.since)

    def check(self, cells: set[tuple[int, date]] | None) -> None:
        """The rows of the cells a run scored (None: the whole range) are the fresh ones."""
        expected = fresh_rows(since=self.since, until=self.until)
        stored = rows()
        if cells is not None:
            expected = {row for row in expected if (row[1], row[2]) in cells}
            stored = {row for row in stored if (row[1], row[2]) in cells}
        assert stored == expected

    def nightly(self) -> None:
        with self.capture(execute=True):
            evaluate_recent_periods.apply().get()
        self.check(None)

    def ingest(self, text: str) -> None:
        self.files += 1
        with self.capture(execute=True):
            batch = ingest_text(self.source, text, self.tmp_path, name=f"feed-{self.files}.csv")
        days = set(batch.touches.values_list("local_date", flat=True))
        self.check(
            {
                (standard.id, period_containing(day, standard.period).start)
                for standard in ServiceStandard.objects.all()
                for day in days
            }
        )

    def apply(self, operation: tuple) -> None:
        match operation:
            case ("ingest", facts):
                lines = ["external_id,agent,channel,started_at,csat,handle_seconds"]
                for agent, days_ago, hour, channel, csat, handle in facts:
                    external_id = f"x{len(self.external_ids)}"
                    self.external_ids.append(external_id)
                    started = at(self.today - timedelta(days=days_ago), hour).isoformat()
                    lines.append(
                        f"{external_id},{agent},{channel},{started},"
                        f"{'' if csat is None else csat},{'' if handle is None else handle}"
                    )
                self.ingest("\n".join(lines) + "\n")
            case ("correct", index, csat, late_survey):
                if not self.external_ids:
                    return
                external_id = self.external_ids[index % len(self.external_ids)]
                fact = Interaction.objects.get(external_id=external_id)
                if late_survey:  # a partial row: only the survey
                    self.ingest(f"external_id,csat\n{external_id},{csat}\n")
                else:  # a correction of the whole row, to the other channel
                    channel = "chat" if fact.channel == "phone" else "phone"
                    self.ingest(
                        "external_id,agent,channel,started_at,csat\n"
                        f"{external_id},{fact.agent.external_ids.get().external_id},{channel},"
                        f"{fact.started_at.isoformat()},{csat}\n"
                    )
            case ("rule", index, target):
                standard = self.standards[index]
                standard.refresh_from_db()
                standard.target = target
                versions = standard.versions.count()
                with self.capture(execute=True):
                    standard_save(standard=standard, effective_from=self.until)
                if standard.versions.count() > versions:  # re-scored from its first day
                    self.check(
                        {
                            (plan.standard_id, period.start)
                            for plan in standard_plans([standard.id])
                            for period in periods_between(self.until, self.until, plan.period)
                        }
                    )
            case ("teams", index, names, follow):
                standard = self.standards[index]
                standard.refresh_from_db()
                standard.teams.set([self.teams[name] for name in names])
                with self.capture(execute=True):
                    standard_save(standard=standard)
                if follow:
                    self.nightly()
            case ("dates", index, from_days, until_days, follow):
                standard = self.standards[index]
                standard.refresh_from_db()
                standard.active_from = self.since + timedelta(days=from_days)
                standard.active_until = (
                    None
                    if until_days is None
                    else standard.active_from + timedelta(days=until_days)
                )
                with self.capture(execute=True):
                    standard_save(standard=standard)
                if follow:
                    self.nightly()
            case ("move", key, follow):
                agent = self.agents[key]
                agent.refresh_from_db()
                team = self.teams[
                    "sao_paulo" if agent.team_id == self.teams["lisbon"].id else "lisbon"
                ]
                with self.capture(execute=True):
                    agent_move_team(
                        agent=agent, team=team, effective_on=team_today(team), moved_by=None
                    )
                if follow:
                    self.nightly()
            case ("active", key, follow):
                agent = self.agents[key]
                agent.refresh_from_db()
                agent.active = not agent.active
                agent.save()
                if follow:
                    self.nightly()
            case ("cli",):
                with self.capture(execute=True):
                    call_command(
                        "evaluate",
                        "--since",
                        self.since.isoformat(),
                        "--until",
                        self.until.isoformat(),
                        "--json",
                    )
                self.check(None)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_every_path_leaves_the_rows_of_a_fresh_evaluation(
    steps, alice, paulo, lisbon, sao_paulo, source, tmp_path, django_capture_on_commit_callbacks
):
    lia = Agent.objects.filter(external_ids__external_id="L1").first() or agent_in(
        lisbon, "lia", source=source, external_id="L1"
    )
    world = World(
        teams={"lisbon": lisbon, "sao_paulo": sao_paulo},
        agents={"A1": alice, "P1": paulo, "L1": lia},
        source=source,
        tmp_path=tmp_path,
        capture=django_capture_on_commit_callbacks,
    )
    for step in steps:
        world.apply(step)
    # Production runs the nightly sooner or later, whatever a change's own path skipped.
    world.nightly()
    assert rows() == fresh_rows(since=world.since, until=world.until)
